// Package budget chooses per-layer self-grouping rates that meet a cost
// budget (measured latency, FLOPs or parameters, as a fraction of the dense
// network's) while losing as little accuracy as possible.
//
// Three tables feed the choice:
//
//   - A sensitivity table (Sensitivity): for each prunable layer alone, one
//     self-grouping step at each rate from the dense weights, and the
//     accuracy and loss on held-out images; the layer's weights and mask are
//     restored after every trial. Layers x rates.
//   - A cost table (MeasureCosts): every layer pruned one-shot at each rate,
//     the network compiled (package compile) and each conv layer's measured
//     kernel time read from compile.LayerInfo (as a ratio to the dense
//     route timed alongside it), with the layer's FLOPs and parameters
//     (package count). The whole network is also timed at the asked batch
//     and thread count at every uniform rate, alternately with the dense
//     network; a line latency = Fixed + Scale * (sum of the layers' kernel
//     times) is fitted to those points (Theil-Sen), and each rate's own
//     scale then makes every uniform mix predicted as measured
//     (CostTable.Scales), so that a mix of rates has a predicted latency
//     at that batch and thread count. A cost table is cached as JSON keyed by
//     CPU model, threads, batch, layers and rates (LoadCosts).
//   - A budget (ParseBudget): "latency=0.4", "flops=0.3" or "params=0.25".
//
// Solve picks one rate per layer by an exact multiple-choice knapsack
// (dynamic programming over the cost, in 1/Resolution of the budget, with
// each option's cost rounded up so that the budget is always met): it
// minimises the sum of the layers' predicted damage: their top-1 drops or
// their loss rises (Metric) when pruned alone. A layer's
// drops are made non-decreasing and its costs non-increasing in the rate
// (running max and min) before solving, which irons out measurement noise.
//
// A Plan then gives each layer its own target; Plan.Rates scales the usual
// cumulative schedule so that every layer reaches its target at the last
// step (layer rate = target * p / max target).
//
// Files: solve.go (budgets, Solve), plan.go (the schedule), sensitivity.go,
// cost.go (measurement), cache.go (the cost table's JSON cache, CPU model).
package budget
