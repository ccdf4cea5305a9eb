# want: 10: Invalid value for hook
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
  }

  task "setup" {
    command = "/usr/bin/true"
    lifecycle {
      hook = "prerun"
    }
  }
}
