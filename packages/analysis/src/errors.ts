/**
 * Typed errors of the analyses: `message` says what is wrong and what to do; `fix` is the second half alone,
 * so the app can show it beside the input that caused it. Nothing here is fatal to a session.
 */
export class AnalysisInputError extends Error {
  readonly fix: string;
  constructor(what: string, fix: string) {
    super(`${what} ${fix}`);
    this.name = new.target.name;
    this.fix = fix;
  }
}

export class EmptyPromptSetError extends AnalysisInputError {
  constructor() {
    super('The prompt set is empty.', 'Give at least one prompt (a .txt file holds one prompt per line).');
  }
}

export class EmptyPromptError extends AnalysisInputError {
  constructor(readonly index: number) {
    super(`Prompt ${index + 1} encodes to no tokens.`, 'Remove it or give it some text.');
  }
}

export class PromptTooLongError extends AnalysisInputError {
  constructor(
    readonly index: number,
    readonly tokens: number,
    readonly nCtx: number,
  ) {
    super(
      `Prompt ${index + 1} has ${tokens} tokens; the model's context holds ${nCtx}.`,
      `Shorten it, or set "Cut prompts to" (max_tokens) to ${nCtx} or less so that prompts are cut.`,
    );
  }
}

/** The run was cancelled (AbortSignal); nothing was cached. */
export class AtlasCancelledError extends AnalysisInputError {
  constructor() {
    super('The atlas run was cancelled.', 'Run it again to finish.');
  }
}
