// Package stub is a minimal hub on the library's conn/ package, speaking the
// wire package's protocol subset. It is the load generator's own test target
// (the end-to-end test runs against it in-process) and the stand-in server
// until examples/chat exists; it is not Surge's hub and its figures are not
// Surge's.
package stub
