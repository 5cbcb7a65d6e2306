// tsctr's command line as ctr 1.6 (urfave/cli v1 on Go's flag package) reads it: global flags, the command
// group (namespaces, images, ...) with its flags, the subcommand with its flags; help requests and usage
// errors answered with ctr's texts and exit statuses (recorded: fixtures/ctr-usage/, texts in ctr-help.ts):
//   help (--help, -h, -help[=true], `help [TOPIC]`, `G help [S]`, a group alone)  ctr's help text, exit 0
//   a flag error at the top or a group   "Incorrect Usage. <err>\n\n" + the help on stdout, "ctr: <err>" on stderr, exit 1
//   a flag error of a subcommand         "Incorrect Usage: <err>\n\n" + its help, "ctr: <err>", exit 1
//   an unknown command or help topic     "No help topic for 'X'" on stderr, exit 3
// A command line that parses is handed on with its flags rewritten to their canonical long form
// (`--quiet`, `--expected-size=5`, then `--` when the first positional argument starts with "-"), so
// the commands' own flag walking (flags.ts) sees one spelling per flag.
//
// Not ctr's, handled here too: the global flags --root DIR and --salvage; a hidden --json on the listings;
// `snapshots which`. Our own commands (gc, doctor, overview, sandboxes) keep their own texts and are handed
// on untouched. The global help is tsctr's own (ctr's lists commands tsctr does not have).
import { readFileSync } from 'node:fs';
import { FlagError, FlagSet } from '../format/goflag.js';
import { CtrCommandError } from '../format/errors.js';
import { CTR_GLOBAL, CTR_GROUPS, CTR_LEAVES, type CtrFlag, type CtrGroup, type CtrLeaf } from './ctr-help.js';

export interface UsageIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** A command line that parsed: what the commands run with. */
export interface Invocation {
  root?: string;
  namespace?: string;
  salvage: boolean;
  /** The group's canonical name (images, ...) or our command's name as typed (gc, doctor, ...). */
  cmd: string;
  /** The subcommand's canonical name, or for our commands their first argument. */
  sub: string | undefined;
  rest: string[];
  /** The command's words as typed (e.g. ["i", "rm"]), for messages. */
  words: string[];
}

/** Our commands (not ctr 1.6's): handed on as typed. */
const OURS = new Set(['gc', 'doctor', 'overview', 'sandboxes', 'sandbox', 'sb', 's']);

/** Subcommands tsctr adds to ctr's groups (their flags; their help is the global help). */
const OUR_SUBS: Record<string, Record<string, CtrFlag[]>> = {
  snapshots: { which: [{ names: ['json'], kind: 'bool' }] },
};

/** Hidden flags tsctr adds to ctr's subcommands. */
const JSON_FLAG: CtrFlag = { names: ['json'], kind: 'bool' };
const HIDDEN: Record<string, CtrFlag[]> = {
  'namespaces list': [JSON_FLAG],
  'images list': [JSON_FLAG],
  'containers list': [JSON_FLAG],
  'containers info': [JSON_FLAG],
  'content list': [JSON_FLAG],
  'content active': [JSON_FLAG],
  'snapshots list': [JSON_FLAG],
  'leases list': [JSON_FLAG],
};

/** Flags ctr has that tsctr refuses (what to say): they would change what the command does, and offline it cannot. */
const REFUSED: Record<string, Record<string, string>> = {
  'namespaces remove': { cgroup: 'there is no cgroup to delete offline; remove the namespace without --cgroup (and its cgroup with the system tools)' },
};

/** The global flags tsctr adds. */
const OUR_GLOBAL: CtrFlag[] = [
  { names: ['root'], kind: 'string' },
  { names: ['salvage'], kind: 'bool' },
];

export const GLOBAL_HELP = `NAME:
   tsctr - ctr 1.6's commands on a containerd root directory, with no daemon

USAGE:
   tsctr [global options] command [command options] [arguments...]

DESCRIPTION:
   Prints what ctr 1.6 prints for these commands, reading (and for the write commands,
   changing) the files under --root while containerd is stopped; the listings also work
   while it runs. Each command's --help is ctr's.

COMMANDS:
   namespaces, namespace, ns  list, create, remove, label
   images, image, i           list, import, delete, label
   containers, c, container   list, info, delete
   content                    list, active, ingest, delete, label
   snapshots, snapshot        list, info, tree, delete; which PATH|ID|KEY (ours: who owns a snapshot directory)
   leases                     list, delete
   sandboxes, sandbox, sb, s  ls [--filters F]... (ctr 1.7's; 1.7 and 2.x files)
   gc                         [--dry-run] | why OBJECT (ours: containerd's garbage collection offline)
   doctor                     [--verify] [--json] (ours: meta.db vs snapshotters vs files; exit 1 on findings)
   overview                   (ours: every namespace's images and containers)
   help, h                    Shows a list of commands or help for one command

GLOBAL OPTIONS:
   --root value                 the containerd root directory (default: "/var/lib/containerd")
   --namespace value, -n value  namespace to use with commands (default: "default") [$CONTAINERD_NAMESPACE]
   --salvage                    read a damaged meta.db through salvage (listings only; stderr says so)
   --debug, --address value, -a value, --timeout value, --connect-timeout value
                                ctr's; accepted, no effect offline
   --help, -h                   show help
   --version, -v                print the version
   the listings (ls, containers info, content active, snapshots which) also accept --json
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `tsctr ${pkg.version} (ctr 1.6.20's commands)\n`;
}

/** A FlagSet of urfave/cli flags (every name of each flag defined, as urfave does) and the values given. */
class CtrFlags {
  readonly fs = new FlagSet(undefined);
  private readonly get = new Map<string, () => boolean | string | number>();
  constructor(readonly flags: CtrFlag[]) {
    for (const f of flags) {
      for (const n of f.names) {
        if (f.kind === 'bool') this.get.set(n, this.fs.bool(n, false, ''));
        else if (f.kind === 'int') this.get.set(n, this.fs.int(n, 0, ''));
        else if (f.kind === 'duration') this.get.set(n, this.fs.duration(n, '0s', ''));
        else this.get.set(n, this.fs.string(n, '', ''));
      }
    }
  }
  /** Each flag given, by its canonical name (the last of its names given wins). */
  values(): Map<string, string | boolean> {
    const out = new Map<string, string | boolean>();
    for (const f of this.flags) {
      for (const n of f.names) {
        if (!this.fs.isSet(n)) continue;
        const v = this.get.get(n)!();
        out.set(f.names[0]!, typeof v === 'number' ? String(v) : v);
      }
    }
    return out;
  }
}

/** ctr's command line rebuilt in one spelling: canonical long flags, then the positionals. */
function canonicalArgv(values: Map<string, string | boolean>, args: string[]): string[] {
  const out: string[] = [];
  for (const [name, v] of values) {
    if (name === 'help') continue;
    if (v === true) out.push(`--${name}`);
    else if (typeof v === 'string') out.push(`--${name}=${v}`);
  }
  if (args[0]?.startsWith('-')) out.push('--');
  return out.concat(args);
}

/** Usage outcome: what was printed and the exit status. */
class Done {
  constructor(readonly code: number) {}
}

function noHelpTopic(io: UsageIO, name: string): Done {
  io.stderr.write(`No help topic for '${name}'\n`);
  return new Done(3);
}

function notImplemented(words: string[]): CtrCommandError {
  return new CtrCommandError(`tsctr does not implement "${words.join(' ')}": it needs a running containerd (use ctr)`);
}

/** Parses flags; a flag error prints as urfave does (`sep` is "." for apps, ":" for commands) and is Done(1). */
function parseFlags(io: UsageIO, f: CtrFlags, argv: string[], sep: '.' | ':', help: string): Done | undefined {
  try {
    f.fs.parse(argv);
    return undefined;
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    io.stdout.write(`Incorrect Usage${sep} ${e.message}\n\n${help}`);
    io.stderr.write(`ctr: ${e.message}\n`);
    return new Done(1);
  }
}

function findGroup(name: string): [string, CtrGroup] | undefined {
  for (const [k, g] of Object.entries(CTR_GROUPS)) if (g.names.includes(name)) return [k, g];
  return undefined;
}

function findLeaf(group: string, name: string): [string, CtrLeaf] | undefined {
  for (const [k, l] of Object.entries(CTR_LEAVES)) if (k.startsWith(group + ' ') && l.names.includes(name)) return [k.slice(group.length + 1), l];
  return undefined;
}

const isCtrCommand = (name: string): boolean => CTR_GLOBAL.commands.some((n) => (n as readonly string[]).includes(name));

/** `help TOPIC...` at the top: a group's topic text; our commands' help is the global help. */
function topHelp(io: UsageIO, topic: string | undefined): Done {
  if (topic === undefined || OURS.has(topic)) return io.stdout.write(GLOBAL_HELP), new Done(0);
  const g = findGroup(topic);
  if (g) return io.stdout.write(g[1].helpTopic), new Done(0);
  if (isCtrCommand(topic)) throw notImplemented([topic]);
  return noHelpTopic(io, topic);
}

function runGroup(io: UsageIO, name: string, group: CtrGroup, argv: string[]): Done | { said: string; rest: string[] } {
  const f = new CtrFlags(group.flags);
  const bad = parseFlags(io, f, argv, '.', group.help);
  if (bad) return bad;
  const gflags = f.values();
  if (gflags.get('help') === true) return io.stdout.write(group.help), new Done(0);
  const [sub, ...rest] = f.fs.args();
  if (sub === undefined) return io.stdout.write(group.help), new Done(0);
  const pre = canonicalArgv(gflags, []);
  if (sub === 'help' || sub === 'h') {
    const topic = rest[0];
    if (topic === undefined) return io.stdout.write(group.helpCmd), new Done(0);
    const leaf = findLeaf(name, topic);
    if (leaf) return io.stdout.write(leaf[1].help), new Done(0);
    if (OUR_SUBS[name]?.[topic]) return io.stdout.write(GLOBAL_HELP), new Done(0);
    if (group.commands.some((n) => n.includes(topic))) throw notImplemented([name, topic]);
    return noHelpTopic(io, topic);
  }
  const ours = OUR_SUBS[name]?.[sub];
  if (ours) {
    const lf = new CtrFlags([...ours, { names: ['help', 'h'], kind: 'bool' }]);
    const b = parseFlags(io, lf, rest, ':', GLOBAL_HELP);
    if (b) return b;
    const v = lf.values();
    if (v.get('help') === true) return io.stdout.write(GLOBAL_HELP), new Done(0);
    return { said: sub, rest: [...pre, sub, ...canonicalArgv(v, lf.fs.args())] };
  }
  const leaf = findLeaf(name, sub);
  if (!leaf) {
    if (group.commands.some((n) => n.includes(sub))) throw notImplemented([name, sub]);
    return noHelpTopic(io, sub);
  }
  const [canon, l] = leaf;
  const key = `${name} ${canon}`;
  const flags = [...l.flags, ...(HIDDEN[key] ?? []), { names: ['help', 'h'], kind: 'bool' as const }];
  const lf = new CtrFlags(flags);
  const b = parseFlags(io, lf, rest, ':', l.help);
  if (b) return b;
  const v = lf.values();
  if (v.get('help') === true) return io.stdout.write(l.help), new Done(0);
  for (const [flag, why] of Object.entries(REFUSED[key] ?? {})) {
    if (v.get(flag) === true) throw new CtrCommandError(`${key} --${flag}: not supported by tsctr: ${why}`);
  }
  return { said: sub, rest: [...pre, canon, ...canonicalArgv(v, lf.fs.args())] };
}

/**
 * Reads the command line. Returns the exit status when it was a help request or a usage error (already
 * printed), else what to run. Throws CtrCommandError for a ctr command tsctr does not implement.
 */
export function parseCommandLine(argv: string[], io: UsageIO): number | Invocation {
  const gflags = [...CTR_GLOBAL.flags, ...OUR_GLOBAL].map((f) => ({ names: [...f.names], kind: f.kind }));
  const f = new CtrFlags(gflags);
  const bad = parseFlags(io, f, argv, '.', GLOBAL_HELP);
  if (bad) return bad.code;
  const g = f.values();
  if (g.get('help') === true) return io.stdout.write(GLOBAL_HELP), 0;
  if (g.get('version') === true) return io.stdout.write(version()), 0;
  const inv: Invocation = { salvage: g.get('salvage') === true, cmd: '', sub: undefined, rest: [], words: [] };
  const root = g.get('root');
  if (typeof root === 'string') inv.root = root;
  const ns = g.get('namespace');
  if (typeof ns === 'string') inv.namespace = ns;
  const [cmd, ...rest] = f.fs.args();
  if (cmd === undefined) return io.stdout.write(GLOBAL_HELP), 0;
  if (cmd === 'help' || cmd === 'h') return topHelp(io, rest[0]).code;
  if (OURS.has(cmd)) return { ...inv, cmd, sub: rest[0], rest: rest.slice(1), words: [cmd, ...rest.slice(0, 1)] };
  const group = findGroup(cmd);
  if (!group) {
    if (isCtrCommand(cmd)) throw notImplemented([cmd]);
    return noHelpTopic(io, cmd).code;
  }
  const r = runGroup(io, group[0], group[1], rest);
  if (r instanceof Done) return r.code;
  // The commands take the group's flags (snapshots --snapshotter) before the subcommand.
  const [first, ...more] = r.rest;
  return { ...inv, cmd: group[0], sub: first, rest: more, words: [cmd, r.said] };
}
