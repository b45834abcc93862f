// Package linkage simulates linking carbon markets: marginal abatement cost
// curves, autarky and linked equilibria with limits, exchange rates, price
// floors and ceilings, partial links and offsets, private and social costs,
// the CBAM money a linked price keeps in Asia, and Monte Carlo bands.
//
// Use: ParseScenario (or DefaultScenario) → Compile → NewSolver → Solve →
// Fill a Result; ComputeCBAM adds the CBAM effect (each export flow priced
// by the cbam package as one import line) and MonteCarlo the uncertainty
// bands. Solve (the one-call form) does the first four steps. The package
// is pure calculation: data in, results out, no I/O.
package linkage
