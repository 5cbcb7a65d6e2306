// Image references as containerd 1.6's importer names images (images/archive/reference.go, on top of
// reference/docker, the distribution reference grammar, and containerd's own reference.Parse):
//
//   normalizeReference   "alpine" -> "docker.io/library/alpine:latest" (docker save RepoTags)
//   ociReferenceName     "docker.io/library/alpine:latest" -> "latest" (the OCI ref.name annotation)
//   refTranslator        OCI ref.name -> image name: tag-only refs get "<base>:" prepended; with a
//                        --base-name, full refs outside that base are dropped ("")
//   digestTranslator     "<base>@<digest>" (--digests)

import { ErrInvalidArgument } from './errors.js';
import { isDigest } from './content.js';

// reference/docker/reference.go's regular expressions (Go regexp is leftmost-first, as JS).
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]*)';
const NAME_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN}/)?${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`;
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN})/)?(${NAME_COMPONENT}(?:/${NAME_COMPONENT})*)$`);
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_IDENTIFIER = /^([a-f0-9]{64})$/;
export const NAME_TOTAL_LENGTH_MAX = 255;

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_NAME = 'library';
const DEFAULT_TAG = 'latest';

/** A parsed, named reference: domain/path, optional tag and digest. */
export interface NamedReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export function referenceString(r: NamedReference): string {
  const name = r.domain === '' ? r.path : `${r.domain}/${r.path}`;
  return name + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

function refError(message: string): ErrInvalidArgument {
  return new ErrInvalidArgument(message);
}

/** reference/docker Parse (errors as its sentinels' texts). */
function parseDistribution(s: string): NamedReference {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw refError('repository name must have at least one component');
    if (REFERENCE.test(s.toLowerCase())) throw refError('repository name must be lowercase');
    throw refError('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw refError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const nm = ANCHORED_NAME.exec(name);
  const out: NamedReference = { domain: nm?.[1] ?? '', path: nm ? nm[2]! : name };
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) {
    if (!isDigest(m[3])) throw refError(`invalid digest ${JSON.stringify(m[3])}`);
    out.digest = m[3];
  }
  return out;
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost')) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `${OFFICIAL_REPO_NAME}/${remainder}`;
  return [domain, remainder];
}

/** reference/docker ParseNormalizedNamed. */
export function parseNormalizedNamed(s: string): NamedReference {
  if (ANCHORED_IDENTIFIER.test(s)) throw refError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) throw refError('invalid reference format: repository name must be lowercase');
  return parseDistribution(`${domain}/${remainder}`);
}

/** reference/docker ParseDockerRef: tag and digest -> digest only; name only -> ":latest". */
export function parseDockerRef(s: string): NamedReference {
  const r = parseNormalizedNamed(s);
  if (r.tag !== undefined && r.digest !== undefined) return { domain: r.domain, path: r.path, digest: r.digest };
  if (r.tag === undefined && r.digest === undefined) return { ...r, tag: DEFAULT_TAG };
  return r;
}

/** archive.normalizeReference: the name a docker save RepoTag is imported as. */
export function normalizeReference(ref: string): string {
  try {
    return referenceString(parseDockerRef(ref));
  } catch (e) {
    throw new ErrInvalidArgument(`normalize image ref ${JSON.stringify(ref)}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * archive.ociReferenceName: the object of containerd's reference.Parse ("host/path:tag" -> "tag",
 * "host/path@sha256:..." -> "@sha256:..."), or the name itself when it does not parse.
 */
export function ociReferenceName(name: string): string {
  if (name.includes('://')) return name;
  // Names without a path ("host" alone) only reach here from hand-written input; url.Parse
  // rejects most of them (a tag reads as a bad port), and the name is kept.
  const slash = name.indexOf('/');
  if (slash <= 0) return name;
  const path = name.slice(slash);
  const i = path.search(/[:@]/);
  if (i < 0) return '';
  const object = path.slice(i);
  return object.startsWith(':') ? object.slice(1) : object;
}

function isImagePrefix(s: string, prefix: string): boolean {
  if (!s.startsWith(prefix)) return false;
  if (s.length > prefix.length) {
    const c = s[prefix.length];
    if (c !== '/' && c !== ':' && c !== '@') return false;
  }
  return true;
}

/** archive.AddRefPrefix (checkPrefix false) / FilterRefPrefix (checkPrefix true). */
export function refTranslator(image: string, checkPrefix: boolean): (ref: string) => string {
  return (ref) => {
    if (/[/:@]/.test(ref)) {
      if (checkPrefix && !isImagePrefix(ref, image)) return '';
      return ref;
    }
    return `${image}:${ref}`;
  };
}

/** archive.DigestTranslator. */
export function digestTranslator(prefix: string): (digest: string) => string {
  return (digest) => `${prefix}@${digest}`;
}
