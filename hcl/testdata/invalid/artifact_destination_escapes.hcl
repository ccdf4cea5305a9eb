# want: 7: leaves the allocation's folder
experiment "vocab" {
  task "train" {
    command = "local/train.sh"
    artifact {
      source      = "https://example.com/code.tar.gz"
      destination = "../../etc"
    }
  }
}
