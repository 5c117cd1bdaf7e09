// Command demo-backend is a tiny HTTP server for `make demo` and examples: it
// answers every request with its own name, so alternating answers show the
// load balancing at work. /health answers 200 unless -unhealthy is set.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9001", "address to listen on")
	name := flag.String("name", "backend", "name to answer with")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", *name)
		fmt.Fprintf(w, "hello from %s: %s %s (X-Forwarded-For: %s)\n", *name, r.Method, r.URL.RequestURI(), r.Header.Get("X-Forwarded-For"))
	})
	log.SetOutput(os.Stderr)
	log.Printf("demo-backend %s listening on %s", *name, *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
