# want: 7: Invalid value for datacenters: datacenters must name at least one datacenter ("*" means all)
experiment "nowhere" {
  task "train" {
    command = "python3"
  }
  nomad {
    datacenters = []
  }
}
