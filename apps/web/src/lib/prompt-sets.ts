// The prompt-set parser lives in @headscope/analysis so the CLI reads the same files the same way.
export { PromptFileError, type PromptSet, parseCsv, parsePromptFile } from '@headscope/analysis';
