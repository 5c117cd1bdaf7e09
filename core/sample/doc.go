// Package sample is varde's one sample-expression engine: HAProxy's
// `fetch(args),converter(args),...` expressions (configuration.txt §7.3),
// used by ACLs, http-request/http-response rule values, log-format `%[...]`
// and dynamic `use_backend %[...]`.
//
// Fetches and converters live in registries (RegisterFetch,
// RegisterConverter) that say, for each name, its arguments, its output type
// and, for fetches, where it can be evaluated (request, response or log
// time). Parse compiles an expression once, at configuration time, and
// refuses what cannot run: unknown names (with a did-you-mean only when the
// suggestion is close), bad arguments, missing map files, a fetch used where
// it is not available. `varde check` calls the same Parse as `varde run`, so
// the two cannot disagree.
//
// Evaluation (Expr.Eval, Expr.Each) reads a Ctx and allocates nothing in
// the common cases: fetched values are slices of the request's own buffers,
// and converters that build new bytes append them to a scratch buffer the
// caller owns and reuses.
package sample
