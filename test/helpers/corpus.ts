// ../shared/corpus: bbolt files written by real software (see its README for provenance). Tests read
// it when the folder exists; it is not part of the repository.
import { fileURLToPath } from 'node:url';

export const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));

/** containerd meta.db files: 1.6-era, 1.7 from Windows, trimmed EKS/GKE node databases, a 2021 forensic lab image. */
export const CORPUS_META_FILES = [
  'containerd-meta-linux.db',
  'containerd-1.7-meta-windows.db',
  'containerd-2021-meta-dfirlabs.db',
  'containerd-meta-eks-trimmed.db',
  'containerd-meta-gke-gcfs-trimmed.db',
];

/** Snapshotter metadata.db files (overlayfs, GKE image streaming). */
export const CORPUS_SNAPSHOTTER_FILES = [
  'snapshotter-2021-metadata-dfirlabs.db',
  'snapshotter-gcfs-metadata.db',
  'snapshotter-gke-node-metadata.db',
  'snapshotter-overlayfs-metadata.db',
];
