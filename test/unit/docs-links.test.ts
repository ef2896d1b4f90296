/**
 * Every relative link in README.md and docs/ leads somewhere: the file (or folder) exists inside the repository,
 * and a `#anchor` into a Markdown page names one of its headings, slugged as GitHub slugs them, or an explicit
 * `<a id>`/`<a name>`. Every page under docs/ can be reached from README.md by following links, and every
 * repository-relative `runbook_url` of the shipped rule files (alerts/*.yml) resolves the same way.
 *
 * GitHub's heading ids: github-slugger (Flet/github-slugger 2.0.0, `index.js` `slug` and `BananaSlug.slug`,
 * `script/generate-regex.js` for what it strips), applied to the heading's text as rendered (inline code keeps its
 * text, a link its label, emphasis markers go): lower-cased; characters of the Unicode categories Other_Number,
 * Close/Final/Initial/Open/Other/Dash punctuation, Symbol, Control, Private_Use, Format, Unassigned and Separator
 * removed, except alphabetic ones, `-` and the space; each space then a `-`; a repeated slug gets `-1`, `-2`, ...
 * Code blocks and code spans hold no links.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");

/** What github-slugger strips (script/generate-regex.js), save alphabetic characters, `-` and the space. */
const STRIPPED = /[\p{No}\p{Pe}\p{Pf}\p{Pi}\p{Ps}\p{Po}\p{Pd}\p{S}\p{Cc}\p{Co}\p{Cf}\p{Cn}\p{Z}]/u;
const ALPHABETIC = /\p{Alphabetic}/u;

/** github-slugger's `slug`: one heading text to its id, without the repeat suffix. */
function githubSlug(text: string): string {
  return [...text.toLowerCase()]
    .filter((char) => char === " " || char === "-" || ALPHABETIC.test(char) || !STRIPPED.test(char))
    .join("")
    .replace(/ /g, "-");
}

/** The Markdown text without fenced code blocks (``` or ~~~, also indented in a list item); their lines become empty. */
function withoutCodeBlocks(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const opening = /^\s*(`{3,}|~{3,})/.exec(line);
      if (fence) {
        if (opening && opening[1][0] === fence[0] && opening[1].length >= fence.length && line.trim() === opening[1]) fence = undefined;
        return "";
      }
      if (opening) {
        fence = opening[1];
        return "";
      }
      return line;
    })
    .join("\n");
}

/** Code spans (which may wrap lines) replaced by a placeholder word: nothing inside one is a link. */
const withoutCodeSpans = (text: string) => text.replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, "code");

/** The anchors a page offers: its headings' GitHub ids (repeats suffixed as GitHub does) and explicit HTML anchors. */
function anchorsOf(markdown: string): Set<string> {
  const text = withoutCodeBlocks(markdown);
  const anchors = new Set<string>();
  const occurrences = new Map<string, number>();
  for (const line of text.split("\n")) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!heading) continue;
    const rendered = heading[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .replace(/`+([^`]*?)`+/g, "$1")
      .replace(/\*+/g, "");
    // BananaSlug.slug: a slug seen before gets the next free `-<n>`.
    const original = githubSlug(rendered);
    let slug = original;
    while (occurrences.has(slug)) {
      occurrences.set(original, (occurrences.get(original) ?? 0) + 1);
      slug = `${original}-${occurrences.get(original)}`;
    }
    occurrences.set(slug, 0);
    anchors.add(slug);
  }
  for (const match of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  return anchors;
}

/** Every link target of a page: inline links and images, reference definitions, HTML href/src; with its line. */
function linksOf(markdown: string): { target: string; line: number }[] {
  const text = withoutCodeSpans(withoutCodeBlocks(markdown));
  const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
  const links: { target: string; line: number }[] = [];
  for (const match of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
    links.push({ target: match[1].replace(/^<|>$/g, ""), line: lineAt(match.index ?? 0) });
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm))
    links.push({ target: match[1].replace(/^<|>$/g, ""), line: lineAt(match.index ?? 0) });
  for (const match of text.matchAll(/\b(?:href|src)="([^"]*)"/g)) links.push({ target: match[1], line: lineAt(match.index ?? 0) });
  return links;
}

/** How the checker sees the repository: a file's text (undefined when there is no such file) and whether a folder exists. */
interface Repository {
  read(relativePath: string): string | undefined;
  isFolder(relativePath: string): boolean;
}

/** Where a relative link of `from` leads, repository-relative (posix), or a problem; undefined for a link off the repository (a URL). */
function resolveLink(from: string, target: string, repo: Repository): { path: string; anchor?: string } | { problem: string } | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) return undefined;
  const [withoutAnchor, anchor] = target.split(/#(.*)/s, 2);
  const filePart = withoutAnchor.split("?")[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(filePart);
  } catch {
    return { problem: `"${target}" is not a valid URL path` };
  }
  const resolved =
    decoded === "" ? from : path.posix.normalize(decoded.startsWith("/") ? decoded.slice(1) : path.posix.join(path.posix.dirname(from), decoded));
  if (resolved === ".." || resolved.startsWith("../")) return { problem: `"${target}" leads out of the repository` };
  const cleaned = resolved.replace(/\/$/, "") || ".";
  if (repo.read(cleaned) === undefined && !repo.isFolder(cleaned)) return { problem: `"${target}": no file or folder ${cleaned}` };
  return { path: cleaned, anchor: anchor === undefined ? undefined : anchor };
}

/** Every broken link of the given pages, as `<page>:<line>: <what is wrong>`. */
function brokenLinks(pages: string[], repo: Repository): string[] {
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (page: string) => {
    if (!anchorCache.has(page)) anchorCache.set(page, anchorsOf(repo.read(page) ?? ""));
    return anchorCache.get(page) as Set<string>;
  };
  return pages.flatMap((page) =>
    linksOf(repo.read(page) ?? "").flatMap(({ target, line }) => {
      const where = `${page}:${line}`;
      const resolved = resolveLink(page, target, repo);
      if (resolved === undefined) return [];
      if ("problem" in resolved) return [`${where}: ${resolved.problem}`];
      if (resolved.anchor === undefined) return [];
      if (resolved.anchor === "") return [`${where}: "${target}" has an empty anchor`];
      if (!resolved.path.endsWith(".md")) {
        // GitHub's line anchors into a file it shows as code.
        return /^L\d+(-L\d+)?$/.test(resolved.anchor) || repo.isFolder(resolved.path)
          ? []
          : [`${where}: "${target}": #${resolved.anchor} is no line anchor (#L<n>)`];
      }
      let anchor: string;
      try {
        anchor = decodeURIComponent(resolved.anchor);
      } catch {
        anchor = resolved.anchor;
      }
      return anchorsIn(resolved.path).has(anchor) ? [] : [`${where}: "${target}": ${resolved.path} has no heading or anchor "${anchor}"`];
    }),
  );
}

/** The Markdown pages reachable from `start` by relative links. */
function reachablePages(start: string, repo: Repository): Set<string> {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const page = queue.shift() as string;
    for (const { target } of linksOf(repo.read(page) ?? "")) {
      const resolved = resolveLink(page, target, repo);
      if (resolved && "path" in resolved && resolved.path.endsWith(".md") && !seen.has(resolved.path)) {
        seen.add(resolved.path);
        queue.push(resolved.path);
      }
    }
  }
  return seen;
}

const onDisk: Repository = {
  read(relativePath) {
    const file = path.join(ROOT, relativePath);
    return fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, "utf8") : undefined;
  },
  isFolder(relativePath) {
    const folder = path.join(ROOT, relativePath);
    return fs.existsSync(folder) && fs.statSync(folder).isDirectory();
  },
};

function inMemory(files: Record<string, string>): Repository {
  return {
    read: (relativePath) => files[relativePath],
    isFolder: (relativePath) => relativePath === "." || Object.keys(files).some((file) => file.startsWith(`${relativePath}/`)),
  };
}

function markdownUnder(folder: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, folder), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? markdownUnder(`${folder}/${entry.name}`) : entry.name.endsWith(".md") ? [`${folder}/${entry.name}`] : []));
}

const DOC_PAGES = markdownUnder("docs");

describe("links in README.md and docs/", () => {
  test("every relative link resolves to a file and, with an anchor, to a heading", () => {
    expect(DOC_PAGES.length).toBeGreaterThan(10);
    expect(brokenLinks(["README.md", ...DOC_PAGES], onDisk)).toEqual([]);
  });

  test("every page under docs/ can be reached from README.md", () => {
    const reachable = reachablePages("README.md", onDisk);
    expect(DOC_PAGES.filter((page) => !reachable.has(page))).toEqual([]);
  });

  test("the shipped rules' repository-relative runbook_url values lead to a runbook section", () => {
    const ruleFiles = fs.readdirSync(path.join(ROOT, "alerts")).filter((name) => /\.ya?ml$/.test(name));
    const urls = ruleFiles.flatMap((name) =>
      [...fs.readFileSync(path.join(ROOT, "alerts", name), "utf8").matchAll(/runbook_url:\s*["']?([^"'\s]+)/g)].map((match) => match[1]),
    );
    const relative = urls.filter((url) => !/^[a-z][a-z0-9+.-]*:/i.test(url));
    expect(relative.length).toBeGreaterThan(10);
    // A repository-relative runbook_url is relative to the repository's root (alerting.runbookBaseUrl is prefixed to it).
    const problems = relative.flatMap((url) => brokenLinks(["alert"], { ...onDisk, read: (page) => (page === "alert" ? `[x](${url})` : onDisk.read(page)) }));
    expect(problems).toEqual([]);
  });
});

describe("the link checker", () => {
  const files = {
    "README.md": [
      "# Project",
      "",
      "See [the guide](docs/guide.md), [its setup](docs/guide.md#set-up-npm-ci), [the same heading again](docs/guide.md#set-up-npm-ci-1),",
      "[a folder](docs/), [a file's line](scripts/run.sh#L3), [a local heading](#project) and [a site](https://example.com/x.md#nowhere).",
      "",
      "```sh",
      "[not a link](docs/missing.md)",
      "```",
      "",
      "`[nor this](docs/missing.md)` but [a reference][ref].",
      "",
      "[ref]: docs/guide.md#whats-new-in-v2",
    ].join("\n"),
    "docs/guide.md": [
      "# Guide",
      "",
      "## Set up: `npm ci`",
      "",
      "## Set up: `npm ci`",
      "",
      "## What's new in v2?",
      "",
      '<a id="custom-anchor"></a>',
      "",
      "Back to [the start](../README.md) and [an anchor](#custom-anchor).",
    ].join("\n"),
    "scripts/run.sh": "#!/bin/sh\n",
  };

  test("passes a sample whose links all resolve", () => {
    expect(brokenLinks(["README.md", "docs/guide.md"], inMemory(files))).toEqual([]);
    expect(reachablePages("README.md", inMemory(files))).toEqual(new Set(["README.md", "docs/guide.md"]));
  });

  test.each([
    ["a missing file", "[x](docs/gone.md)", 'README.md:1: "docs/gone.md": no file or folder docs/gone.md'],
    ["a missing heading", "[x](docs/guide.md#setup)", 'README.md:1: "docs/guide.md#setup": docs/guide.md has no heading or anchor "setup"'],
    ["a missing heading in the same page", "[x](#nowhere)", 'README.md:1: "#nowhere": README.md has no heading or anchor "nowhere"'],
    [
      "a third repeat of a heading that exists twice",
      "[x](docs/guide.md#set-up-npm-ci-2)",
      'README.md:1: "docs/guide.md#set-up-npm-ci-2": docs/guide.md has no heading or anchor "set-up-npm-ci-2"',
    ],
    ["a link out of the repository", "[x](../elsewhere.md)", 'README.md:1: "../elsewhere.md" leads out of the repository'],
    ["a broken reference definition", "[x][r]\n\n[r]: docs/guide.md#nope", 'README.md:3: "docs/guide.md#nope": docs/guide.md has no heading or anchor "nope"'],
    ["an anchor into a file that is no page", "[x](scripts/run.sh#usage)", 'README.md:1: "scripts/run.sh#usage": #usage is no line anchor (#L<n>)'],
  ])("fails on %s", (_name, readme, problem) => {
    expect(brokenLinks(["README.md"], inMemory({ ...files, "README.md": readme }))).toEqual([problem]);
  });

  test("a page no link leads to is found unreachable", () => {
    const reachable = reachablePages("README.md", inMemory({ ...files, "docs/orphan.md": "# Orphan\n" }));
    expect(reachable.has("docs/orphan.md")).toBe(false);
  });

  // Cases from github-slugger's own tests (Flet/github-slugger 2.0.0, test/fixtures.json).
  test.each([
    ["heading with a - dash", "heading-with-a---dash"],
    ["heading with an _ underscore", "heading-with-an-_-underscore"],
    ["heading with a period.txt", "heading-with-a-periodtxt"],
    ["exchange.bind_headers(exchange, routing [, bindCallback])", "exchangebind_headersexchange-routing--bindcallback"],
    ["Привет non-latin 你好", "привет-non-latin-你好"],
    ["Past one host: Grafana Cloud, Elastic Cloud or an existing cluster", "past-one-host-grafana-cloud-elastic-cloud-or-an-existing-cluster"],
  ])("slugs %j as GitHub does", (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });
});
