module github.com/varde-lb/varde

go 1.26
