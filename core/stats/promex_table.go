package stats

import "github.com/prometheus/client_golang/prometheus"

// TableStat is one stick table as HAProxy 2.6's exporter reports it in
// its sticktable scope.
type TableStat struct {
	Name string // the table's (its section's) name
	Type string // key type: ip, ipv6, integer, string, binary
	Size int    // the configured size (entries)
	Used int    // entries in the table now
}

var (
	tableLabels   = []string{"name", "type"}
	tableSizeDesc = prometheus.NewDesc("haproxy_sticktable_size", "Stick table size.", tableLabels, nil)
	tableUsedDesc = prometheus.NewDesc("haproxy_sticktable_used", "Number of entries used in this stick table.", tableLabels, nil)
)

// tableCollector exports haproxy_sticktable_size and _used.
type tableCollector func() []TableStat

func (tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tableSizeDesc
	ch <- tableUsedDesc
}

func (f tableCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range f() {
		ch <- prometheus.MustNewConstMetric(tableSizeDesc, prometheus.GaugeValue, float64(t.Size), t.Name, t.Type)
		ch <- prometheus.MustNewConstMetric(tableUsedDesc, prometheus.GaugeValue, float64(t.Used), t.Name, t.Type)
	}
}
