# want: 5: Invalid value for network mode
experiment "vocab" {
  group "server" {
    network {
      mode = "overlay"
    }
    task "serve" {
      command = "/usr/bin/python3"
    }
  }
}
