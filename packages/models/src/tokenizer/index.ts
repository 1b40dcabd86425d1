export { type EncodeOptions, type HeadscopeTokenizer, loadTokenizer, type TokenizerOptions, tokenizerFromJson } from './tokenizer.js';
