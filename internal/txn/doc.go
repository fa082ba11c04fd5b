// Package txn holds producer identity: the producer-ID allocator today; the
// transaction coordinator on __transaction_state comes with transactions.
// Per-partition sequence checks live with the log in storage, because they
// must be atomic with the append and are rebuilt with it on recovery.
//
// pid is a producer ID. Imports: meta.
package txn
