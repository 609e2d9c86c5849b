package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sgcnn/sgcnn"
	"github.com/sgcnn/sgcnn/models"
	"github.com/sgcnn/sgcnn/report"
)

// writeReports writes a pruning run's report files into dir (see
// sgcnn.WriteReports) and names them on stderr.
func writeReports(g *globals, dir string, m *models.Model, r *report.Run) error {
	files, err := sgcnn.WriteReportFiles(dir, m, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "wrote %s\n", strings.Join(files, ", "))
	return nil
}

// printSummary prints the report as Markdown.
func printSummary(g *globals, r *report.Run) {
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, r); err == nil {
		g.stdout.Write(b.Bytes())
	}
}
