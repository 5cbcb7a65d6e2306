// Small OCI image-layout tarballs for tests that feed a real `ctr images import`: one gzip layer of
// regular files, a config naming its diff_id, a manifest, and index.json naming the image(s).
import zlib from 'node:zlib';
import { digestOf } from '../../src/content/index.js';

/** A ustar archive of regular files (names under 100 bytes). */
export function ustar(files: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) {
    const h = Buffer.alloc(512);
    const put = (off: number, len: number, v: string): number => h.write(v, off, len, 'latin1');
    put(0, 100, name);
    put(100, 8, '0000644\0');
    put(108, 8, '0000000\0');
    put(116, 8, '0000000\0');
    put(124, 12, data.length.toString(8).padStart(11, '0') + '\0');
    put(136, 12, '00000000000\0');
    put(148, 8, '        ');
    put(156, 1, '0');
    put(257, 8, 'ustar\u000000');
    let sum = 0;
    for (const b of h) sum += b;
    put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** An OCI layout tarball whose index names the one linux/amd64 manifest under each of `names` (its entries also carry `annotations`). */
export function ociTarball(names: string[], files: Array<[string, Buffer]> = [['hello.txt', Buffer.from('hello\n')]], annotations: Record<string, string> = {}): Buffer {
  const layerTar = ustar(files);
  const layer = zlib.gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layerTar)] }, config: {} }));
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: digestOf(b), size: b.length });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.image.config.v1+json', config), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', layer)] }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: names.map((name) => ({ ...desc('application/vnd.oci.image.manifest.v1+json', manifest), annotations: { 'io.containerd.image.name': name, ...annotations }, platform: { architecture: 'amd64', os: 'linux' } })),
    }),
  );
  const blob = (b: Buffer): [string, Buffer] => [`blobs/sha256/${digestOf(b).slice(7)}`, b];
  return ustar([['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')], ['index.json', index], blob(config), blob(layer), blob(manifest)]);
}
