# want: 8: Invalid value for template change_mode
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      data        = "X=1"
      destination = "local/x"
      change_mode = "reload"
    }
  }
}
