// Package haproxydiff holds the differential tests of varde's balancing
// algorithms against a real HAProxy: the same server list, weights and
// hash settings in an haproxy.cfg and in varde's balancers, the same
// requests sent through HAProxy to small HTTP backends on loopback, and
// varde's prediction compared with the backend HAProxy chose. It has no
// code of its own; it needs no varde engine.
package haproxydiff
