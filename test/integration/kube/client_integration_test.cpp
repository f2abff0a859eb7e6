// The Kubernetes client against a real kube-apiserver: CRUD on a test CRD, pagination,
// server-side apply with two field managers, optimistic concurrency, the status subresource, and
// clear errors for an unreachable server and a wrong CA. Needs KUBECONFIG; skipped without.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "kube/client.h"
#include "kube/informer.h"
#include "kube/watcher.h"
#include "test/integration/kube/fixture.h"

namespace aim::kube::integration {
namespace {

TEST_F(KubeIntegration, CreateReadUpdateDelete) {
  auto created = client_->create(kWidgets, widget(ns_, "w1", 1));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  const std::string uid = (*created)["metadata"]["uid"];

  auto dup = client_->create(kWidgets, widget(ns_, "w1", 1));
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().is(ErrorCode::kAlreadyExists)) << dup.error().describe();

  auto got = client_->get(kWidgets, ns_, "w1");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ((*got)["spec"]["size"], 1);

  Json changed = *got;
  changed["spec"]["size"] = 2;
  auto updated = client_->update(kWidgets, changed);
  ASSERT_TRUE(updated.ok()) << updated.error().describe();
  EXPECT_EQ((*updated)["spec"]["size"], 2);

  auto patched = client_->merge_patch(kWidgets, ns_, "w1", {{"spec", {{"color", "blue"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ((*patched)["spec"]["color"], "blue");
  EXPECT_EQ((*patched)["spec"]["size"], 2);

  for (int i = 2; i <= 3; ++i)
    ASSERT_TRUE(client_->create(kWidgets, widget(ns_, "w" + std::to_string(i), i)).ok());
  ListOptions small_pages;
  small_pages.limit = 1;  // three pages
  auto listed = client_->list(kWidgets, ns_, small_pages);
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  std::set<std::string> names;
  for (const auto& item : listed->items) {
    names.insert(item["metadata"]["name"].get<std::string>());
    EXPECT_EQ(item["kind"], "Widget");
  }
  EXPECT_EQ(names, (std::set<std::string>{"w1", "w2", "w3"}));
  EXPECT_FALSE(listed->resource_version.empty());

  auto invalid = client_->merge_patch(kWidgets, ns_, "w1", {{"spec", {{"size", -5}}}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(invalid.error().is(ErrorCode::kInvalid)) << invalid.error().describe();
  ASSERT_FALSE(invalid.error().causes.empty());
  EXPECT_EQ(invalid.error().causes[0].field, "spec.size");

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  auto refused = client_->remove(kWidgets, ns_, "w1", wrong_uid);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().is(ErrorCode::kConflict)) << refused.error().describe();

  DeleteOptions right_uid;
  right_uid.precondition_uid = uid;
  right_uid.propagation_policy = "Background";
  auto removed = client_->remove(kWidgets, ns_, "w1", right_uid);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  auto gone = client_->get(kWidgets, ns_, "w1");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().is(ErrorCode::kNotFound)) << gone.error().describe();
}

TEST_F(KubeIntegration, StaleUpdateConflicts) {
  auto created = client_->create(kWidgets, widget(ns_, "w", 1));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  Json first = *created, second = *created;
  first["spec"]["size"] = 2;
  ASSERT_TRUE(client_->update(kWidgets, first).ok());
  second["spec"]["size"] = 3;  // still carries the old resourceVersion
  auto stale = client_->update(kWidgets, second);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().is(ErrorCode::kConflict)) << stale.error().describe();
  EXPECT_EQ(stale.error().http_status, 409);
}

// Which field manager owns spec.size according to managedFields.
std::vector<std::string> owners_of_size(const Json& object) {
  std::vector<std::string> owners;
  for (const auto& entry : object["metadata"].value("managedFields", Json::array())) {
    const Json& fields = entry.value("fieldsV1", Json::object());
    if (fields.contains("f:spec") && fields["f:spec"].contains("f:size"))
      owners.push_back(entry.value("manager", ""));
  }
  return owners;
}

TEST_F(KubeIntegration, ServerSideApplyByTwoFieldManagers) {
  Json mine = {{"apiVersion", "test.aim.dev/v1"},
               {"kind", "Widget"},
               {"metadata", {{"name", "shared"}, {"namespace", ns_}}},
               {"spec", {{"size", 1}}}};
  auto a = client_->apply(kWidgets, mine, {"manager-a", false});
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(owners_of_size(*a), std::vector<std::string>{"manager-a"});

  Json theirs = mine;
  theirs["spec"]["size"] = 2;
  auto conflict = client_->apply(kWidgets, theirs, {"manager-b", false});
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().is(ErrorCode::kConflict)) << conflict.error().describe();
  ASSERT_FALSE(conflict.error().causes.empty());
  EXPECT_EQ(conflict.error().causes[0].field, ".spec.size");

  auto forced = client_->apply(kWidgets, theirs, {"manager-b", true});
  ASSERT_TRUE(forced.ok()) << forced.error().describe();
  EXPECT_EQ((*forced)["spec"]["size"], 2);
  EXPECT_EQ(owners_of_size(*forced), std::vector<std::string>{"manager-b"});

  // A field nobody else owns is applied without force.
  Json color = mine;
  color["spec"] = {{"color", "green"}};
  auto c = client_->apply(kWidgets, color, {"manager-c", false});
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ((*c)["spec"]["color"], "green");
  EXPECT_EQ((*c)["spec"]["size"], 2);
}

// The informer's store holds objects without managedFields (strip_for_cache), and an update
// written from such a cached copy leaves the server's managedFields as they were.
TEST_F(KubeIntegration, InformerCacheDropsManagedFieldsAndUpdatesKeepThem) {
  Json w = widget(ns_, "cached", 1);
  ASSERT_TRUE(client_->apply(kWidgets, w, {"manager-a", false}).ok());
  Informer informer(client_, kWidgets, ns_);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(std::chrono::seconds(30)));
  auto cached = informer.store().get(ns_, "cached");
  ASSERT_TRUE(cached);
  EXPECT_FALSE((*cached)["metadata"].contains("managedFields")) << cached->dump();
  EXPECT_EQ((*cached)["spec"]["size"], 1);

  Json changed = *cached;
  changed["spec"]["size"] = 5;
  auto updated = client_->update(kWidgets, changed);
  ASSERT_TRUE(updated.ok()) << updated.error().describe();
  auto live = client_->get(kWidgets, ns_, "cached");
  ASSERT_TRUE(live.ok());
  std::set<std::string> managers;
  for (const auto& m : (*live)["metadata"].value("managedFields", Json::array()))
    managers.insert(m.value("manager", ""));
  EXPECT_TRUE(managers.count("manager-a")) << (*live)["metadata"].dump();
  // The watch delivers the update, stripped as well.
  EXPECT_TRUE(eventually(
      [&] {
        auto o = informer.store().get(ns_, "cached");
        return o && (*o)["spec"]["size"] == 5 && !(*o)["metadata"].contains("managedFields");
      },
      30s));
  informer.stop();
}

// All watches and requests of one client share one connection to the API server (HTTP/2 over
// TLS, http::Multiplexer), as client-go's do: twelve informers, each with its own watch, and
// twelve concurrent reads open at most two connections, where a connection per caller opens 24.
TEST_F(KubeIntegration, WatchesAndRequestsOfOneClientShareOneConnection) {
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  ASSERT_TRUE(cfg->multiplex);  // the default
  auto made = Client::create(*cfg);
  ASSERT_TRUE(made.ok()) << made.error().describe();
  std::shared_ptr<Client> client = *made;
  constexpr int kWatches = 12;
  std::vector<std::unique_ptr<Informer>> informers;
  for (int i = 0; i < kWatches; ++i) {
    ListOptions selector;
    selector.label_selector = "slot=s" + std::to_string(i);
    informers.push_back(std::make_unique<Informer>(client, kWidgets, ns_, selector));
    informers.back()->start();
  }
  for (auto& informer : informers) ASSERT_TRUE(informer->wait_for_sync(std::chrono::seconds(30)));
  // Every watch is live: each informer sees the widget of its slot, and only that one.
  for (int i = 0; i < kWatches; ++i) {
    Json w = widget(ns_, "w" + std::to_string(i), i);
    w["metadata"]["labels"] = {{"slot", "s" + std::to_string(i)}};
    ASSERT_TRUE(client->create(kWidgets, w).ok());
  }
  for (int i = 0; i < kWatches; ++i) {
    EXPECT_TRUE(eventually(
        [&] { return informers[i]->store().get(ns_, "w" + std::to_string(i)) != nullptr; }, 30s))
        << "watch " << i;
    EXPECT_EQ(informers[i]->store().list().size(), 1u) << "watch " << i;
  }
  std::vector<std::thread> readers;
  std::atomic<int> read{0};
  for (int i = 0; i < kWatches; ++i)
    readers.emplace_back([&, i] {
      if (client->get(kWidgets, ns_, "w" + std::to_string(i)).ok()) ++read;
    });
  for (auto& t : readers) t.join();
  EXPECT_EQ(read.load(), kWatches);
  for (auto& informer : informers) informer->stop();  // a watch's connection counts once it ends
  EXPECT_GE(client->connections_opened(), 1u);
  EXPECT_LE(client->connections_opened(), 2u);
}

// metadata_only: Secrets listed and watched as PartialObjectMetadata never carry their values,
// yet come back as v1 Secrets with their names, labels and resourceVersion.
TEST_F(KubeIntegration, MetadataOnlyInformerOfSecretsHoldsNoValues) {
  auto make = [&](const std::string& name, const std::string& value) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"namespace", ns_}, {"labels", {{"app", "x"}}}}},
                {"stringData", {{"token", value}}}};
  };
  ASSERT_TRUE(client_->create(types::secrets(), make("before", "value-one")).ok());
  ListOptions meta;
  meta.metadata_only = true;
  Informer informer(client_, types::secrets(), ns_, meta);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(std::chrono::seconds(30)));
  auto listed = informer.store().get(ns_, "before");
  ASSERT_TRUE(listed);
  EXPECT_EQ((*listed)["kind"], "Secret");
  EXPECT_EQ((*listed)["apiVersion"], "v1");
  EXPECT_EQ((*listed)["metadata"]["labels"]["app"], "x");
  EXPECT_FALSE(listed->contains("data")) << listed->dump();
  ASSERT_TRUE(client_->create(types::secrets(), make("after", "value-two")).ok());
  EXPECT_TRUE(eventually([&] { return informer.store().get(ns_, "after") != nullptr; }, 30s));
  auto watched = informer.store().get(ns_, "after");
  ASSERT_TRUE(watched);
  EXPECT_EQ((*watched)["kind"], "Secret");
  for (const auto& o : informer.store().list(ns_)) {
    const std::string text = o->dump();
    EXPECT_EQ(text.find("value-"), std::string::npos) << text;
    EXPECT_EQ(text.find("dmFsdWUt"), std::string::npos) << text;  // base64 of "value-"
  }
  informer.stop();
}

TEST_F(KubeIntegration, StatusSubresource) {
  auto created = client_->create(kWidgets, widget(ns_, "s", 1));
  ASSERT_TRUE(created.ok()) << created.error().describe();

  // Through the status endpoint: the status changes, a spec change is ignored.
  Json via_status = *created;
  via_status["spec"]["size"] = 99;
  via_status["status"] = {{"phase", "Ready"}, {"observed", 1}};
  auto s = client_->update_status(kWidgets, via_status);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ((*s)["status"]["phase"], "Ready");
  EXPECT_EQ((*s)["spec"]["size"], 1);

  // Through the main endpoint: the spec changes, a status change is ignored.
  Json via_main = *s;
  via_main["spec"]["size"] = 5;
  via_main["status"]["phase"] = "Broken";
  auto m = client_->update(kWidgets, via_main);
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ((*m)["spec"]["size"], 5);
  EXPECT_EQ((*m)["status"]["phase"], "Ready");

  // Merge patch and apply on the status subresource.
  auto p = client_->merge_patch(kWidgets, ns_, "s", {{"status", {{"observed", 2}}}}, "status");
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ((*p)["status"]["observed"], 2);
  Json status_apply = {{"apiVersion", "test.aim.dev/v1"},
                       {"kind", "Widget"},
                       {"metadata", {{"name", "s"}, {"namespace", ns_}}},
                       {"status", {{"phase", "Applied"}}}};
  auto a = client_->apply(kWidgets, status_apply, {"status-writer", true}, "status");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ((*a)["status"]["phase"], "Applied");
}

TEST_F(KubeIntegration, UnreachableServerIsOneClearLine) {
  Config cfg = client_->config();
  cfg.server = "https://127.0.0.1:1";
  cfg.connect_timeout = 5s;
  auto c = Client::create(cfg);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->server_version();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork);
  EXPECT_EQ(r.error().describe().rfind("cannot reach https://127.0.0.1:1: connection refused", 0),
            0u)
      << r.error().describe();
}

TEST_F(KubeIntegration, WrongCaIsOneClearLine) {
  Config cfg = client_->config();
  cfg.tls.ca_file.clear();
  cfg.tls.ca_pem = kWrongCa;
  cfg.tls.insecure_skip_verify = false;
  auto c = Client::create(cfg);
  ASSERT_TRUE(c.ok());
  auto r = (*c)->server_version();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTls);
  const std::string line = r.error().describe();
  EXPECT_EQ(line.rfind("TLS verification of " + cfg.server +
                           ": certificate signed by unknown authority — check "
                           "certificate-authority-data",
                       0),
            0u)
      << line;
  // The client key never shows up in the message.
  if (!cfg.tls.client_key_pem.empty()) {
    EXPECT_EQ(line.find(cfg.tls.client_key_pem.substr(30, 40)), std::string::npos);
  }
}

}  // namespace
}  // namespace aim::kube::integration
