# want: 5: Invalid value for shutdown_delay: The shutdown_delay must not be negative
experiment "vocab" {
  task "train" {
    command        = "/usr/bin/python3"
    shutdown_delay = "-5s"
  }
}
