// containerd's filter syntax lives in the content store (src/content/filters.ts), which stands
// alone; the metadata layer uses the same parser for its listings.
export { parseFilter, parseFilters, checkMap, type Adaptor, type Filter } from '../content/filters.js';
