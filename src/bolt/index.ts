// The bolt engine's public API.
export { open, DB, mmapSize, type Options, type DBStats } from './db.js';
export { Tx, type TxStats } from './tx.js';
export { Bucket, type BucketStats, type Bytes, MAX_KEY_SIZE, MAX_VALUE_SIZE, DEFAULT_FILL_PERCENT } from './bucket.js';
export { Cursor, CursorItem, type Entry } from './cursor.js';
export * from './errors.js';
export { Page, pageTypeName, PAGE_HEADER_SIZE, BRANCH_PAGE_FLAG, LEAF_PAGE_FLAG, META_PAGE_FLAG, FREELIST_PAGE_FLAG, BUCKET_LEAF_FLAG } from './page.js';
export { type Meta, MAGIC, VERSION, readMeta, validateMeta, fnv64a } from './meta.js';
export { Freelist, readFreelistIds, type FreelistType } from './freelist.js';
export { DataMap, type FileIO, NodeFile } from './file.js';
export { readSnapshot, newestValidTxid, type Snapshot } from './snapshot.js';
export { compact } from './compact.js';
export {
  salvage,
  salvageSummary,
  SalvageError,
  SALVAGED_BUCKET_PREFIX,
  type SalvageOptions,
  type SalvageReport,
  type SalvageSource,
  type UnreadablePage,
  type ReportPath,
} from './salvage.js';
export {
  SurgeryError,
  ErrSurgeryFreelistAlreadyExist,
  copyPage,
  revertMetaPage,
  clearPage,
  clearPageElements,
  clearFreelist,
  rebuildFreelist,
  checkFreelistRebuild,
  validateMetaPages,
  updateMeta,
  META_UPDATE_FIELDS,
  type MetaUpdateField,
  type MetaValidation,
} from './surgery.js';
export { pageMap, PAGE_KINDS, type PageKind, type PageMap, type BucketUsage, type UsageCounts } from './pagemap.js';
