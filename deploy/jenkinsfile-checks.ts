/**
 * Checks over the Jenkinsfile (a declarative pipeline), as plain functions returning one line per problem:
 * deploy/jenkinsfile.test.ts runs them on the repository's Jenkinsfile and on pipelines with each fault.
 *
 * The file is read as nested blocks (`name(args) { ... }`) with comments and strings taken into account, which is
 * all a declarative pipeline is made of.
 */

/** A `{ ... }` block: what precedes the brace (`stage('Prod')`, `withCredentials(...)`), its body, its parent. */
export interface JenkinsBlock {
  header: string;
  name: string;
  start: number;
  end: number;
  parent: number | null;
}

/** The text with comments blanked out (same length, so positions hold) and string contents kept. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const two = text.slice(i, i + 2);
    if (two === '//') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (two === '/*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"') {
      const triple = text.slice(i, i + 3) === c.repeat(3);
      const close = triple ? c.repeat(3) : c;
      let j = i + close.length;
      while (j < text.length && text.slice(j, j + close.length) !== close) j += text[j] === '\\' ? 2 : 1;
      j = Math.min(text.length, j + close.length);
      out += text.slice(i, j);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Blanks string contents (keeping quotes), so braces inside strings do not count as blocks. */
function blankStrings(code: string): string {
  return code.replace(/'''[\s\S]*?'''|"""[\s\S]*?"""|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, (m) =>
    m.replace(/[^\n'"]/g, ' '),
  );
}

/** Every block of the pipeline, in the order their braces open. */
export function parseBlocks(text: string): JenkinsBlock[] {
  const code = stripComments(text);
  const shape = blankStrings(code);
  const blocks: JenkinsBlock[] = [];
  const open: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === '{') {
      // The header: an identifier, optionally followed by balanced parentheses, just before the brace.
      let j = i - 1;
      while (j >= 0 && /\s/.test(shape[j]!)) j--;
      let headerEnd = j + 1;
      if (shape[j] === ')') {
        let depth = 0;
        for (; j >= 0; j--) {
          if (shape[j] === ')') depth++;
          else if (shape[j] === '(' && --depth === 0) break;
        }
        j--;
        while (j >= 0 && /\s/.test(shape[j]!)) j--;
      }
      let k = j;
      while (k >= 0 && /\w/.test(shape[k]!)) k--;
      const name = code.slice(k + 1, j + 1);
      if (!name) headerEnd = i;
      blocks.push({
        header: code.slice(k + 1, headerEnd).trim(),
        name,
        start: i,
        end: -1,
        parent: open.length ? open[open.length - 1]! : null,
      });
      open.push(blocks.length - 1);
    } else if (shape[i] === '}') {
      const b = open.pop();
      if (b !== undefined) blocks[b]!.end = i;
    }
  }
  return blocks;
}

/** The blocks enclosing a position, innermost first. */
function enclosing(blocks: JenkinsBlock[], pos: number): JenkinsBlock[] {
  return blocks.filter((b) => b.start < pos && pos < b.end).sort((a, b) => b.start - a.start);
}

/** A block's own text: its body without the bodies of the blocks inside it. */
function ownText(code: string, blocks: JenkinsBlock[], b: JenkinsBlock): string {
  const idx = blocks.indexOf(b);
  let text = code.slice(b.start + 1, b.end);
  const children = blocks.filter((c) => c.parent === idx).sort((x, y) => y.start - x.start);
  for (const c of children) text = text.slice(0, c.start - b.start) + text.slice(c.end - b.start);
  return text;
}

const DEPLOY_STEP = /\bsh\s*\(?\s*['"][^'"]*npm run (deploy|smoke|rollback|athena:setup)\b/g;

/**
 * AWS credentials reach every step that talks to AWS as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: no
 * `credentials('…')` (on an AWS credential it sets <NAME>_AWS_KEY_ID / <NAME>_AWS_SECRET, which neither the SDK nor
 * serverless reads); an `aws(...)` binding to the standard variables; every deploy, smoke, rollback and athena:setup
 * step inside `withCredentials`.
 */
export function checkJenkinsCredentials(text: string): string[] {
  const code = stripComments(text);
  const blocks = parseBlocks(text);
  const problems: string[] = [];
  for (const m of code.matchAll(/(\w+)\s*=\s*credentials\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    problems.push(
      `${m[1]} = credentials('${m[2]}') sets ${m[1]}_AWS_KEY_ID / ${m[1]}_AWS_SECRET, not AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY`,
    );
  }
  const binding = /\baws\s*\(([^)]*)\)/.exec(code)?.[1] ?? '';
  const bindsStandard =
    /accessKeyVariable\s*:\s*['"]AWS_ACCESS_KEY_ID['"]/.test(binding) &&
    /secretKeyVariable\s*:\s*['"]AWS_SECRET_ACCESS_KEY['"]/.test(binding);
  if (!bindsStandard) problems.push('no aws(...) binding to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY');
  for (const m of code.matchAll(DEPLOY_STEP)) {
    const inside = enclosing(blocks, m.index!).some((b) => b.name === 'withCredentials');
    if (!inside) problems.push(`npm run ${m[1]} runs outside withCredentials (line ${lineOf(code, m.index!)})`);
  }
  return problems;
}

const lineOf = (code: string, pos: number) => code.slice(0, pos).split('\n').length;

/**
 * The approval waits without an executor and under its own timeout only: the pipeline has `agent none` and no
 * pipeline-wide timeout; the `input` step is in a stage with `agent none` and a timeout of its own; no stage around
 * that stage has a timeout (or an agent).
 */
export function checkJenkinsApproval(text: string): string[] {
  const code = stripComments(text);
  const blocks = parseBlocks(text);
  const problems: string[] = [];
  const pipeline = blocks.find((b) => b.name === 'pipeline');
  if (!pipeline) return ['no pipeline block'];
  const childrenNamed = (b: JenkinsBlock, name: string) =>
    blocks.filter((c) => c.parent === blocks.indexOf(b) && c.name === name);
  const hasTimeout = (b: JenkinsBlock) =>
    childrenNamed(b, 'options').some((o) => /\btimeout\s*\(/.test(code.slice(o.start, o.end)));
  if (!/\bagent\s+none\b/.test(ownText(code, blocks, pipeline)))
    problems.push('the pipeline holds an agent for its whole run (top-level agent is not none)');
  if (hasTimeout(pipeline)) problems.push('a pipeline-wide timeout also covers the approval wait');
  const inputs = [...code.matchAll(/\binput\s*(\(|message\b)/g)];
  if (inputs.length === 0) problems.push('no input step (the prod approval)');
  for (const m of inputs) {
    const around = enclosing(blocks, m.index!);
    const stages = around.filter((b) => b.name === 'stage');
    const own = stages[0];
    if (!own) {
      problems.push(`input at line ${lineOf(code, m.index!)} is not in a stage`);
      continue;
    }
    const label = own.header;
    if (!/\bagent\s+none\b/.test(ownText(code, blocks, own)))
      problems.push(`${label}: the approval stage has no agent none`);
    const wrapped = around.slice(0, around.indexOf(own)).some((b) => b.name === 'timeout');
    if (!hasTimeout(own) && !wrapped) problems.push(`${label}: the approval has no timeout of its own`);
    for (const outer of stages.slice(1)) {
      if (hasTimeout(outer)) problems.push(`${label}: the timeout of ${outer.header} also covers the approval`);
      if (/\bagent\s+(?!none\b)/.test(ownText(code, blocks, outer)))
        problems.push(`${label}: ${outer.header} holds an agent during the approval`);
    }
  }
  return problems;
}
