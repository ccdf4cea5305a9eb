# want: 8: Template signal without change_signal
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      data        = "X=1"
      destination = "local/x"
      change_mode = "signal"
    }
  }
}
