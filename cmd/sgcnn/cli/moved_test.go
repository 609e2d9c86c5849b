package cli

import "github.com/sgcnn/sgcnn"

// Names the tests use for what moved to the front door (package sgcnn).
var cyclePath = sgcnn.CyclePath

type budgetResult = sgcnn.BudgetResult
