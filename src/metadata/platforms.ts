// OCI platforms as containerd 1.6's platforms package treats them: Normalize, Format, and the
// Only() matcher-comparer (the host platform first, then compatible ones: amd64 -> 386, arm64 -> arm/v8..v5).

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8' ? '' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (variant === '5' || variant === '6' || variant === '8') return ['arm', 'v' + variant];
      return ['arm', variant];
  }
  return [arch, variant];
}

export function normalizePlatform(p: Platform): Platform {
  const os = normalizeOS(p.os);
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** platforms.Format: "os/arch[/variant]", "unknown" without an OS. */
export function formatPlatform(p: Platform): string {
  if (!p.os) return 'unknown';
  return [p.os, p.architecture, p.variant ?? ''].filter((s) => s !== '').join('/');
}

function platformVector(p: Platform): Platform[] {
  const v: Platform[] = [p];
  if (p.architecture === 'amd64') {
    const n = Number.parseInt((p.variant ?? '').replace(/^v/, ''), 10);
    if (n > 1) for (let i = n - 1; i >= 1; i--) v.push({ os: p.os, architecture: 'amd64', variant: `v${i}` });
    v.push({ os: p.os, architecture: '386' });
  } else if (p.architecture === 'arm') {
    const n = Number.parseInt((p.variant ?? '').replace(/^v/, ''), 10);
    if (n > 5) for (let i = n - 1; i >= 5; i--) v.push({ os: p.os, architecture: 'arm', variant: `v${i}` });
  } else if (p.architecture === 'arm64') {
    v.push(...platformVector({ os: p.os, architecture: 'arm', variant: p.variant || 'v8' }));
  }
  return v;
}

function matches(m: Platform, p: Platform): boolean {
  const n = normalizePlatform(p);
  return m.os === n.os && m.architecture === n.architecture && (m.variant ?? '') === (n.variant ?? '');
}

export interface MatchComparer {
  match(p: Platform): boolean;
  less(a: Platform, b: Platform): boolean;
}

/** platforms.Only(p). */
export function onlyPlatform(p: Platform): MatchComparer {
  const ms = platformVector(normalizePlatform(p));
  return {
    match: (x) => ms.some((m) => matches(m, x)),
    less: (a, b) => {
      for (const m of ms) {
        const am = matches(m, a);
        const bm = matches(m, b);
        if (am && !bm) return true;
        if (am || bm) return false;
      }
      return false;
    },
  };
}

/** The platform of this process, as Go's runtime.GOOS/GOARCH name it (platforms.DefaultSpec). */
export function defaultPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const archMap: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const architecture = archMap[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os, architecture, variant: 'v7' } : { os, architecture };
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);
const SPECIFIER_RE = /^[A-Za-z0-9_-]+$/;

/** A platform specifier that platforms.Parse refuses (its message; errdefs.ErrInvalidArgument). */
export class PlatformParseError extends Error {
  readonly code = 'ERR_INVALID_ARGUMENT';
}

/** platforms' normalizeOS: lower case, macos as darwin, and no OS at all as ctr's own (runtime.GOOS: linux). */
function normalizeOS(os: string): string {
  if (os === '') return 'linux';
  os = os.toLowerCase();
  return os === 'macos' ? 'darwin' : os;
}

/** platforms.Parse: "os", "arch", "os/arch", "os/arch/variant". */
export function parsePlatform(specifier: string): Platform {
  if (specifier.includes('*')) throw new PlatformParseError(`${JSON.stringify(specifier)}: wildcards not yet supported: invalid argument`);
  const parts = specifier.split('/');
  for (const part of parts) {
    if (!SPECIFIER_RE.test(part)) {
      throw new PlatformParseError(`${JSON.stringify(part)} is an invalid component of ${JSON.stringify(specifier)}: platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument`);
    }
  }
  const withVariant = (os: string, architecture: string, variant: string): Platform => (variant ? { os, architecture, variant } : { os, architecture });
  switch (parts.length) {
    case 1: {
      const os = normalizeOS(parts[0]!);
      if (KNOWN_OS.has(os)) {
        const d = defaultPlatform();
        return withVariant(os, d.architecture, d.architecture === 'arm' && d.variant !== 'v7' ? (d.variant ?? '') : '');
      }
      let [architecture, variant] = normalizeArch(parts[0]!, '');
      if (architecture === 'arm' && variant === 'v7') variant = '';
      if (KNOWN_ARCH.has(architecture)) return withVariant(defaultPlatform().os, architecture, variant);
      throw new PlatformParseError(`${JSON.stringify(specifier)}: unknown operating system or architecture: invalid argument`);
    }
    case 2: {
      let [architecture, variant] = normalizeArch(parts[1]!, '');
      if (architecture === 'arm' && variant === 'v7') variant = '';
      return withVariant(normalizeOS(parts[0]!), architecture, variant);
    }
    case 3: {
      let [architecture, variant] = normalizeArch(parts[1]!, parts[2]!);
      if (architecture === 'arm64' && variant === '') variant = 'v8';
      return withVariant(normalizeOS(parts[0]!), architecture, variant);
    }
  }
  throw new PlatformParseError(`${JSON.stringify(specifier)}: cannot parse platform specifier: invalid argument`);
}

/** platforms.OnlyStrict(p): exactly p, after normalisation. */
export function onlyStrictPlatform(p: Platform): MatchComparer {
  const m = normalizePlatform(p);
  return { match: (x) => matches(m, x), less: (a, b) => matches(m, a) && !matches(m, b) };
}

/** platforms.All. */
export const allPlatforms: MatchComparer = { match: () => true, less: () => false };
