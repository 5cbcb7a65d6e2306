// containerd filter syntax (filters/parser.go semantics): selectors, quoting, alternatives, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters, ErrFilterSyntax, type Adaptor } from '../../src/metadata/index.js';

const obj: Record<string, string> = { name: 'docker.io/library/nginx:latest', 'labels.a.b': 'c', 'labels.x': 'y z' };
const adaptor: Adaptor = (fp) => {
  const k = fp.join('.');
  return k in obj ? [obj[k]!, true] : ['', false];
};
const m = (...f: string[]): boolean => parseFilters(...f).match(adaptor);

test('parseFilters_selectors_matchAsContainerd', () => {
  assert.equal(m(), true);
  assert.equal(m('name==docker.io/library/nginx:latest'), true);
  assert.equal(m('name!=docker.io/library/nginx:latest'), false);
  assert.equal(m('labels."a.b"==c'), true);
  assert.equal(m('labels.a.b==c'), true);
  assert.equal(m('labels.x=="y z"'), true);
  assert.equal(m('name~=nginx'), true);
  assert.equal(m('name~=/^nginx/'), false);
  assert.equal(m('name~=|library/ng|'), true);
  assert.equal(m('name,labels.missing'), false);
  assert.equal(m('labels.missing', 'name'), true);
  assert.equal(m('labels.missing!=q'), true);
});

test('parseFilters_badSyntax_throwsErrFilterSyntax', () => {
  for (const bad of ['name==', 'name=>x', 'name==/x/', '"unterminated']) {
    assert.throws(() => parseFilters(bad), (e: unknown) => e instanceof ErrFilterSyntax && e.code === 'ERR_INVALID_FILTER', bad);
  }
});
