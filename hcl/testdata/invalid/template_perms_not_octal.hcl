# want: 8: Invalid value for template perms
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      data        = "X=1"
      destination = "local/x"
      perms       = "0799"
    }
  }
}
