// Go programs the end-to-end tests build and inspect (stdlib only, so they
// build offline with Debian's go1.19).
module goscope.test

go 1.19
