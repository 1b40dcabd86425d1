/**
 * Small labelled task sets written for Headscope, simple enough for the bundled story model to attempt:
 * pronoun agreement, continuing ordinal sequences, and who-gave-to-whom (the indirect object). Generated
 * from word lists so that the labels are balanced and every choice is one word with a leading space.
 */
import type { TaskExample } from './tasks.js';

export interface CalibrationTaskSet {
  id: string;
  title: string;
  about: string;
  examples: TaskExample[];
}

const BOYS = ['Tom', 'John', 'Jack', 'Peter', 'James', 'Harry', 'George', 'Fred', 'Ben', 'Dick', 'Frank', 'Charles'];
const GIRLS = ['Mary', 'Alice', 'Jane', 'Anne', 'Lucy', 'Kate', 'Emily', 'Sarah', 'Betty', 'Polly', 'Nell', 'Margaret'];
const PLACES = ['garden', 'market', 'river', 'village', 'school', 'forest', 'church', 'farm'];
const THINGS = ['book', 'ball', 'letter', 'flower', 'cake', 'penny', 'hat', 'knife'];

function pronouns(): TaskExample[] {
  const out: TaskExample[] = [];
  for (let i = 0; i < 24; i++) {
    const girl = i % 2 === 1;
    const name = (girl ? GIRLS : BOYS)[Math.floor(i / 2)]!;
    const place = PLACES[i % PLACES.length]!;
    out.push({ line: 0, prompt: `${name} walked to the ${place} in the morning. When`, choices: [' he', ' she'], label: girl ? 1 : 0 });
  }
  return out;
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const NUMBERS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

function sequences(): TaskExample[] {
  const out: TaskExample[] = [];
  const add = (list: string[], cyclic: boolean) => {
    const n = cyclic ? list.length : list.length - 3;
    for (let s = 0; s < n; s++) {
      const at = (k: number) => list[(s + k) % list.length]!;
      const right = ` ${at(3)}`;
      const wrong = ` ${at(cyclic ? 5 : s % 2 === 0 ? 4 : 0)}`;
      if (wrong === right) continue;
      const rightFirst = out.length % 2 === 0;
      out.push({
        line: 0,
        prompt: `${at(0)}, ${at(1)}, ${at(2)},`,
        choices: rightFirst ? [right, wrong] : [wrong, right],
        label: rightFirst ? 0 : 1,
      });
    }
  };
  add(DAYS, true);
  add(MONTHS, true);
  add(NUMBERS, false);
  return out;
}

function indirectObject(): TaskExample[] {
  const out: TaskExample[] = [];
  for (let i = 0; i < 24; i++) {
    const a = (i % 2 === 0 ? BOYS : GIRLS)[i % 12]!;
    const b = (i % 2 === 0 ? GIRLS : BOYS)[(i * 5 + 3) % 12]!;
    const place = PLACES[(i * 3) % PLACES.length]!;
    const thing = THINGS[i % THINGS.length]!;
    const firstGives = i % 4 < 2;
    const giver = firstGives ? a : b;
    const receiver = firstGives ? b : a;
    out.push({
      line: 0,
      prompt: `${a} and ${b} went to the ${place}. ${giver} gave a ${thing} to`,
      choices: [` ${a}`, ` ${b}`],
      label: receiver === a ? 0 : 1,
    });
  }
  return out;
}

export const CALIBRATION_TASK_SETS: readonly CalibrationTaskSet[] = [
  { id: 'pronouns', title: 'Pronoun agreement', about: 'A named boy or girl, then " he" or " she".', examples: pronouns() },
  { id: 'sequences', title: 'Ordinal sequences', about: 'Three days, months or number words, then the next one or a later one.', examples: sequences() },
  { id: 'indirect-object', title: 'Who receives', about: '"A and B went … A gave a thing to" → B.', examples: indirectObject() },
];

/** One built-in set as JSONL text (what a user's own task file looks like). */
export function calibrationTaskJsonl(set: CalibrationTaskSet): string {
  return set.examples.map((e) => JSON.stringify({ prompt: e.prompt, choices: e.choices, label: e.label })).join('\n');
}
