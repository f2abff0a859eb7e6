// aimctl: the command line view of what the operator decided.
//
//   aimctl explain SERVICE [-n NAMESPACE]   why this template: every candidate automatic selection
//                                           considered, the stage and reason each one lost, and
//                                           the service's conditions that are not True
//   aimctl explain SERVICE -o json          the same as JSON (status.templateSelection +
//   conditions)
//
// It only reads (GET on the AIMService), with the usual kubeconfig search order.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "cmd/aimctl/explain.h"
#include "controllers/framework.h"
#include "kube/client.h"
#include "kube/config.h"

namespace {
using Json = nlohmann::json;
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aimctl: inspect what aim-engine decided"};
  app.set_version_flag("--version", AIM_ENGINE_VERSION);
  app.require_subcommand(1);
  std::string kubeconfig;
  app.add_option("--kubeconfig", kubeconfig, "Path to a kubeconfig (default: $KUBECONFIG, ...)");

  auto* explain = app.add_subcommand("explain", "Explain an AIMService's template selection");
  std::string name, ns = "default", output = "text";
  explain->add_option("service", name, "AIMService name")->required();
  explain->add_option("-n,--namespace", ns, "Namespace")->capture_default_str();
  explain->add_option("-o,--output", output, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto config = aim::kube::Config::load(kubeconfig);
  if (!config) {
    std::cerr << "aimctl: cannot load a kubeconfig: " << config.error().describe() << "\n";
    return 2;
  }
  auto client = aim::kube::Client::create(*config);
  if (!client) {
    std::cerr << "aimctl: " << client.error().describe() << "\n";
    return 2;
  }
  auto svc = (*client)->get(aim::controllers::types::aim_services(), ns, name);
  if (!svc) {
    if (svc.error().is(aim::kube::ErrorCode::kNotFound)) {
      std::cerr << "aimctl: AIMService " << ns << "/" << name
                << " not found (check the name and -n NAMESPACE)\n";
    } else {
      std::cerr << "aimctl: reading AIMService " << ns << "/" << name << ": "
                << svc.error().describe() << "\n";
    }
    return 1;
  }
  if (output == "json") {
    const Json status = svc->value("status", Json::object());
    Json out = {{"templateSelection", status.value("templateSelection", Json())},
                {"conditions", status.value("conditions", Json::array())}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << aim::aimctl::render_explanation(*svc);
  }
  return 0;
}
