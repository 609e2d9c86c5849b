package swa_test

import (
	"fmt"

	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/nn"
	"github.com/sgcnn/sgcnn/swa"
)

// Average two snapshots of a LeNet-5 into the first. A network with
// batch-norm layers would then need swa.UpdateBN over training batches.
func Example() {
	a, _ := models.New("lenet5", 10, 1)
	b, _ := models.New("lenet5", 10, 2)
	wa, wb := nn.AllParams(a.Net)[0].Value.Data[0], nn.AllParams(b.Net)[0].Value.Data[0]
	var avg swa.Averager
	for _, m := range []*models.Model{a, b} {
		if err := avg.Add(m); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := avg.Mean(a); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(avg.N(), nn.AllParams(a.Net)[0].Value.Data[0] == (wa+wb)/2)
	// Output: 2 true
}
