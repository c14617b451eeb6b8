package sim

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot writes the verdict as a bar chart (format from the file extension,
// e.g. .png): observed shares as bars with their simultaneous
// Clopper–Pearson intervals (the ones the verdict uses), expected shares as
// red marks.
func (v Verdict) Plot(path string) error {
	p := plot.New()
	p.Title.Text = "observed vs expected shares"
	if v.Scenario != "" {
		p.Title.Text += ": " + v.Scenario
	}
	p.Y.Label.Text = fmt.Sprintf("share (bars: observed, %.4g%% Clopper–Pearson intervals)", 100*v.IntervalLevel)
	obs := make(plotter.Values, len(v.Categories))
	names := make([]string, len(v.Categories))
	exp := make(plotter.XYs, len(v.Categories))
	errs := make(plotter.YErrors, len(v.Categories))
	pts := make(plotter.XYs, len(v.Categories))
	for i, r := range v.Categories {
		obs[i] = r.ObservedShare
		names[i] = r.Name
		exp[i] = plotter.XY{X: float64(i), Y: r.ExpectedShare}
		pts[i] = plotter.XY{X: float64(i), Y: r.ObservedShare}
		errs[i].Low, errs[i].High = r.ObservedShare-r.ClopperPearson.Lo, r.ClopperPearson.Hi-r.ObservedShare
	}
	bars, err := plotter.NewBarChart(obs, vg.Points(30))
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	bars.Color = color.RGBA{R: 120, G: 160, B: 210, A: 255}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{pts, errs})
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	marks, err := plotter.NewScatter(exp)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	marks.Shape = draw.BoxGlyph{}
	marks.Color = color.RGBA{R: 200, A: 255}
	marks.Radius = vg.Points(4)
	p.Add(bars, eb, marks, plotter.NewGrid())
	p.Legend.Add("expected", marks)
	p.Legend.Top = true
	p.NominalX(names...)
	p.Y.Min = 0
	top := 0.0
	for i, r := range v.Categories {
		top = max(top, r.ClopperPearson.Hi, exp[i].Y)
	}
	p.Y.Max = min(1, top) * 1.15 // room for the legend above the tallest bar
	if err := p.Save(vg.Points(float64(120+70*len(names))), 4*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// Plot writes a histogram of the simulation's p-values (flat under the
// correct split, piled near 0 under a wrong one).
func (r SimResult) Plot(path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("p-values: %s, n=%d, %d runs, rejection rate %.4f at alpha %g", r.Mode, r.N, r.Runs, r.RejectionRate, r.Alpha)
	p.X.Label.Text = "p-value"
	p.Y.Label.Text = "runs"
	h, err := plotter.NewHist(plotter.Values(r.PValues), 50)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	p.Add(h)
	p.X.Min, p.X.Max = 0, 1
	if err := p.Save(7*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
