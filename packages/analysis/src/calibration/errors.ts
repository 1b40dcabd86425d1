/**
 * Typed calibration errors: `message` = what is wrong + `fix`, and `fix` alone is one sentence the user can
 * act on (the same pattern as the model loader's errors).
 */
export class CalibrationInputError extends Error {
  readonly fix: string;
  constructor(what: string, fix: string) {
    super(`${what} ${fix}`);
    this.name = new.target.name;
    this.fix = fix;
  }
}

/** A head written as `layer.head` that the model does not have, or text that is not a head list. */
export class UnknownHeadError extends CalibrationInputError {
  constructor(
    readonly text: string,
    nLayers: number,
    nHeads: number,
  ) {
    super(
      `"${text}" is not a head of this model.`,
      `Write heads as layer.head, 0-based, comma-separated (layers 0–${nLayers - 1}, heads 0–${nHeads - 1}), e.g. "1.5,2.3", or "all".`,
    );
  }
}

/** One bad line of a task file; the other lines stay usable. */
export interface TaskLineProblem {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

/** A task file with no usable example at all (every line had a problem, or the file was empty). */
export class TaskFileError extends CalibrationInputError {
  constructor(readonly problems: readonly TaskLineProblem[]) {
    super(
      problems.length === 0
        ? 'The task file has no examples.'
        : `No usable example in the task file (${problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}).`,
      'Each line must be a JSON object like {"prompt": "…", "choices": [" positive", " negative"], "label": 0}.',
    );
  }
}
