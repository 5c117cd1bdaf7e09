package admin_test

// The admin tests build backends from haproxy.cfg text: the balancers and
// probes it names must be linked in, as in the varde binary.
import _ "github.com/varde-lb/varde/plugins/all"
