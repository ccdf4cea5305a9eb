# want: 4: Error in function call: Call to function "uniform" failed: uniform is a search space function, so it can be used only inside the space block
experiment "resources" {
  resources {
    cpu = uniform(0.5, 2)
  }
  task "train" {
    command = "python3"
  }
}
