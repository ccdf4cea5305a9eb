# want: 5: Template without destination
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      data = "lr=0.1"
    }
  }
}
