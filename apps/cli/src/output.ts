/** Where a command writes: stdout for results (text or one JSON document), stderr for notes. */
export interface Output {
  json: boolean;
  /** The result: text unless --json, then the JSON document (one line). */
  result(text: () => string, json: () => unknown): void;
  note(text: string): void;
}

export const createOutput = (json: boolean): Output => ({
  json,
  result(text, value) {
    process.stdout.write(json ? `${JSON.stringify(value())}\n` : `${text()}\n`);
  },
  note(text) {
    process.stderr.write(`${text}\n`);
  },
});
