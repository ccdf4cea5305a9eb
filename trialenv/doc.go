// Package trialenv is the runtime contract between tune and a trial: the
// environment every task of every trial reads (the TUNE_* variables, the
// ranks, and the variables of PyTorch's env:// rendezvous), how ranks are
// numbered, and the job meta by which tune finds its trials on a cluster.
//
// Both drivers, the Nomad job compiler and the command line take these
// names and values from here, so the two targets cannot drift apart. The
// package must stay free of any target: no Nomad client, no processes, no
// files; it turns a trial into names and values, and the drivers decide
// how those reach a task.
package trialenv
