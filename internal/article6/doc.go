// Package article6 is the pure accounting core of Article 6.2 of the Paris
// Agreement: cooperative approaches, authorisations, ITMO identifiers, the
// Article 6 checks, first transfers, corresponding adjustments, deductions at
// issuance, emissions balances and the AEF tables. Data in, results out: no
// I/O except the embedded data file; the hub feeds it facts from the ledger.
package article6
