/**
 * No runtime import cycle under components/: a module that needs another at load time must not be
 * needed by it (directly or through others). `import type` and `export type` vanish at compile time and
 * are not counted. The same check by hand: `npx jest test/unit/import-cycles.test.ts`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../components");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** The relative modules a file imports or re-exports at runtime. */
export function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specifiers: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/gm;
  for (const match of text.matchAll(statement)) {
    if (match[2]) continue; // `import type` / `export type`
    const clause = match[3];
    // `import { type A, type B } from`: every name type-only, so nothing is loaded.
    const names = /^\{([^}]*)\}$/.exec(clause.trim());
    if (names && names[1].split(",").every((name) => name.trim() === "" || name.trim().startsWith("type "))) continue;
    specifiers.push(match[4]);
  }
  for (const match of text.matchAll(/^\s*import\s+["'](\.[^"']+)["']/gm)) specifiers.push(match[1]);
  return specifiers.map((specifier) => {
    const base = path.resolve(path.dirname(file), specifier);
    return [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => fs.existsSync(candidate)) ?? `${base}.ts`;
  });
}

/** Every cycle found by a depth-first walk, each as the files on it. */
export function runtimeCycles(files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, runtimeImports(file).filter((target) => files.includes(target))]));
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

describe("imports under components/", () => {
  test("have no runtime cycle", () => {
    const cycles = runtimeCycles(sourceFiles(ROOT)).map((cycle) => cycle.map((file) => path.relative(ROOT, file)).join(" -> "));
    expect(cycles).toEqual([]);
  });

  test("the check sees a cycle when there is one, and ignores type-only imports", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cycles-"));
    try {
      fs.writeFileSync(path.join(dir, "a.ts"), 'import { b } from "./b";\nexport const a = b;\n');
      fs.writeFileSync(path.join(dir, "b.ts"), 'import { c } from "./c";\nexport const b = c;\n');
      fs.writeFileSync(path.join(dir, "c.ts"), 'import type { A } from "./a";\nimport { type D } from "./d";\nexport const c: A | D = 1;\n');
      fs.writeFileSync(path.join(dir, "d.ts"), 'import { a } from "./a";\nexport type D = typeof a;\n');
      const files = ["a", "b", "c", "d"].map((name) => path.join(dir, `${name}.ts`));
      expect(runtimeCycles(files)).toEqual([]);
      fs.writeFileSync(path.join(dir, "c.ts"), 'import { d } from "./d";\nexport const c = d;\n');
      expect(runtimeCycles(files).map((cycle) => cycle.map((file) => path.basename(file)))).toEqual([["a.ts", "b.ts", "c.ts", "d.ts", "a.ts"]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
