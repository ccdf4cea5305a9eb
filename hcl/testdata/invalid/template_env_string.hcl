# want: 8: Invalid value for template env: The template env must be true or false
experiment "vocab" {
  task "train" {
    command = "/usr/bin/python3"
    template {
      data        = "X=1"
      destination = "local/x.env"
      env         = "yes"
    }
  }
}
