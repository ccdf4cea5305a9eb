// Package hcl reads experiment files. It decodes the HCL (or HCL JSON)
// text in stages, as Nomad's and Terraform's own job files are read:
// input variables (with -var and -var-file values), then locals, then the
// experiment block against an explicit schema, and it checks everything it
// can before a single trial exists.
//
// Every problem is returned as an hcl.Diagnostic with a source range; this
// package never prints or logs them, and it never flattens them into plain
// errors. Callers import it as tunehcl to keep the name hcl for
// github.com/hashicorp/hcl/v2.
package hcl
