import { AnalysisInputError } from '../errors.js';

/** Bad input to the retrieval lab: `message` = what is wrong + `fix`, the sentence the user can act on. */
export class RetrievalInputError extends AnalysisInputError {}

/** A needle file line that is not JSON, or not {"needle", "question", "answer"} strings. */
export class NeedleFileError extends RetrievalInputError {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(
      `Needle file line ${line}: ${detail}.`,
      'Write one JSON object per line: {"needle": " …", "question": " …", "answer": " …"}, with the answer copied from the needle text.',
    );
  }
}

/** The answer must be found, verbatim, inside the needle: it is what the model should copy from the context. */
export class AnswerNotInNeedleError extends RetrievalInputError {
  constructor(
    readonly answer: string,
    readonly needle: string,
    readonly line?: number,
  ) {
    super(
      `${line === undefined ? '' : `Needle file line ${line}: `}the answer ${JSON.stringify(answer)} does not occur in the needle ${JSON.stringify(needle)}.`,
      'Copy the answer verbatim from the needle text (same spelling and case); retrieval is scored on the answer tokens inside the needle.',
    );
  }
}

export class EmptyNeedleSetError extends RetrievalInputError {
  constructor() {
    super('The needle set is empty.', 'Give at least one needle (one JSON object per line), or use the built-in needles.');
  }
}

export class EmptyHaystackError extends RetrievalInputError {
  constructor() {
    super('The haystack text is empty.', 'Give a text file with some prose (a few hundred words or more), or use the built-in haystack.');
  }
}

/** A context length the model cannot hold together with the question and the answer budget. */
export class LengthBeyondContextError extends RetrievalInputError {
  constructor(
    readonly length: number,
    readonly maxLength: number,
    readonly nCtx: number,
  ) {
    super(
      `Context length ${length} does not fit: the model's context is ${nCtx} tokens and the question plus the answer budget leave room for at most ${maxLength}.`,
      `Choose lengths up to ${maxLength} (or lower --max-new-tokens).`,
    );
  }
}

/** Lengths or depths that are not usable numbers. */
export class GridSettingError extends RetrievalInputError {}

/** The template must hold both placeholders once. */
export class TemplateError extends RetrievalInputError {
  constructor(detail: string) {
    super(`The prompt template ${detail}.`, 'Write the template with {context} once and {question} once after it, e.g. "{context}\\n\\nQuestion:{question}".');
  }
}
