# want: 5: Template without data or source
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      destination = "local/config"
    }
  }
}
