# want: 6: Invalid value for static port: The static port must be at most 65535
experiment "vocab" {
  group "server" {
    network {
      port "http" {
        static = 80800
      }
    }
    task "serve" {
      command = "/usr/bin/python3"
    }
  }
}
