# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False, cdivision=True
"""flb_fast's compiled hot path: every entry point takes a whole batch (a read buffer, a list of
lines, a chunk) and returns a batch, so the Python/C boundary is crossed once per batch."""

include "_core/consts.pxi"
include "_core/capi.pxi"
include "_core/inotify.pxi"
include "_core/lines.pxi"
include "_core/time.pxi"
include "_core/docker.pxi"
include "_core/cri.pxi"
include "_core/regex.pxi"
include "_core/kube.pxi"
include "_core/logfmt.pxi"
include "_core/jsonw.pxi"
include "_core/cwl.pxi"
include "_core/records.pxi"
include "_core/filters.pxi"
include "_core/lua.pxi"
