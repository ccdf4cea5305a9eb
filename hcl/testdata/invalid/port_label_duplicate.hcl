# want: 7: Duplicate port label: Port "http" is already defined
experiment "vocab" {
  group "server" {
    network {
      port "http" {}
      port "grpc" {}
      port "http" {
        static = 8080
      }
    }
    task "serve" {
      command = "/usr/bin/python3"
    }
  }
}
