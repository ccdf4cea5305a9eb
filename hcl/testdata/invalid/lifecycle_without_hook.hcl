# want: 5: Missing required argument: The argument "hook" is required
experiment "vocab" {
  task "setup" {
    command = "/usr/bin/true"
    lifecycle {
      sidecar = true
    }
  }
  task "train" {
    command = "/usr/bin/python3"
  }
}
