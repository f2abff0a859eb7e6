// Command simlogs lets tests choose what a simulated (KWOK) pod logs.
//
// KWOK serves pod logs from files named in Logs (per pod, by pod name) and ClusterLogs
// (by namespace / pod name) objects. Pods created by Jobs have random names, so a test
// cannot name them in advance. simlogs closes that gap: a test creates a ConfigMap
// labelled sim.aim.eai.amd.com/pod-logs=true in the pod's namespace with
//
//	data:
//	  selector: "job-name=my-job"        # label selector over the pod's labels (required)
//	  log: |                             # text every container of a matching pod logs
//	    line 1
//	  log.<container>: |                 # optional: text for one container (wins over "log")
//	    ...
//
// A text containing "{{" is a Go text/template, rendered once per pod and container with
// podData (pod name, namespace, labels, annotations, and the env and args of the container,
// falling back to the first container's): one ConfigMap can then answer every discovery pod
// of a namespace with a result that matches its own template, e.g.
// {{index .Labels "aim.eai.amd.com/template"}} or {{.Env.AIM_METRIC}}. A template that fails
// to parse or execute logs the error text instead, so a test sees what went wrong.
//
// For every pod that matches, simlogs writes the text as a CRI log file under --log-dir
// and creates a KWOK Logs object named after the pod, which takes precedence over the
// cluster-wide default (a ClusterLogs pointing at an empty file). When several rules
// match a pod, the one whose ConfigMap name sorts first wins.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
)

const ruleLabel = "sim.aim.eai.amd.com/pod-logs"

var logsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

type controller struct {
	client  kubernetes.Interface
	dynamic dynamic.Interface
	pods    cache.Indexer
	rules   cache.Indexer
	queue   workqueue.TypedRateLimitingInterface[string]
	logDir  string

	mu      sync.Mutex
	written map[string]string // pod key -> fingerprint of the rule content last applied
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to the kubeconfig")
	logDir := flag.String("log-dir", "", "directory for the generated CRI log files")
	flag.Parse()
	if *kubeconfig == "" || *logDir == "" {
		fmt.Fprintln(os.Stderr, "usage: simlogs --kubeconfig FILE --log-dir DIR")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simlogs:", err)
		os.Exit(1)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	podFactory := informers.NewSharedInformerFactory(client, 0)
	ruleFactory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = ruleLabel + "=true" }))
	podInformer := podFactory.Core().V1().Pods().Informer()
	ruleInformer := ruleFactory.Core().V1().ConfigMaps().Informer()
	// Shared informers index by namespace already (cache.NamespaceIndex).

	c := &controller{
		client:  client,
		dynamic: dyn,
		pods:    podInformer.GetIndexer(),
		rules:   ruleInformer.GetIndexer(),
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		logDir:  *logDir,
		written: map[string]string{},
	}
	enqueuePod := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	enqueueNamespace := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		pods, _ := c.pods.ByIndex(cache.NamespaceIndex, cm.Namespace)
		for _, p := range pods {
			enqueuePod(p)
		}
	}
	_, _ = podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueuePod,
		UpdateFunc: func(_, n interface{}) { enqueuePod(n) },
		DeleteFunc: enqueuePod,
	})
	_, _ = ruleInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueNamespace,
		UpdateFunc: func(_, n interface{}) { enqueueNamespace(n) },
		DeleteFunc: enqueueNamespace,
	})

	podFactory.Start(ctx.Done())
	ruleFactory.Start(ctx.Done())
	podFactory.WaitForCacheSync(ctx.Done())
	ruleFactory.WaitForCacheSync(ctx.Done())
	fmt.Println("simlogs: watching pods and", ruleLabel, "ConfigMaps")
	startProvisioner(ctx, client)

	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	for c.next(ctx) {
	}
}

func (c *controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		fmt.Fprintf(os.Stderr, "simlogs: %s: %v\n", key, err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, exists, err := c.pods.GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		c.forget(key)
		return os.RemoveAll(filepath.Join(c.logDir, ns, name))
	}
	pod := obj.(*corev1.Pod)
	rule := c.ruleFor(pod)
	if rule == nil {
		return nil
	}
	fingerprint := string(pod.UID) + "/" + rule.Name + "/" + rule.ResourceVersion
	c.mu.Lock()
	done := c.written[key] == fingerprint
	c.mu.Unlock()
	if done {
		return nil
	}

	dir := filepath.Join(c.logDir, ns, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stamp := time.Now().UTC()
	if pod.Status.StartTime != nil {
		stamp = pod.Status.StartTime.UTC()
	}
	var entries []interface{}
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, ct := range containers {
		text, ok := rule.Data["log."+ct.Name]
		if !ok {
			text = rule.Data["log"]
		}
		text = render(text, pod, ct)
		file := filepath.Join(dir, ct.Name+".log")
		if err := os.WriteFile(file, criLog(text, stamp), 0o644); err != nil {
			return err
		}
		entries = append(entries, map[string]interface{}{
			"containers": []interface{}{ct.Name},
			"logsFile":   file,
		})
	}
	logs := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]interface{}{
			"name":      name,
			"namespace": ns,
			"labels":    map[string]interface{}{ruleLabel + "-rule": rule.Name},
			"ownerReferences": []interface{}{map[string]interface{}{
				"apiVersion": "v1", "kind": "Pod", "name": name, "uid": string(pod.UID),
			}},
		},
		"spec": map[string]interface{}{"logs": entries},
	}}
	res := c.dynamic.Resource(logsGVR).Namespace(ns)
	_, err = res.Create(ctx, logs, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var cur *unstructured.Unstructured
		cur, err = res.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			logs.SetResourceVersion(cur.GetResourceVersion())
			_, err = res.Update(ctx, logs, metav1.UpdateOptions{})
		}
	}
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		// The namespace is going away; nothing left to serve.
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.written[key] = fingerprint
	c.mu.Unlock()
	return nil
}

func (c *controller) forget(key string) {
	c.mu.Lock()
	delete(c.written, key)
	c.mu.Unlock()
}

// ruleFor returns the first rule (by ConfigMap name) in the pod's namespace whose selector matches.
func (c *controller) ruleFor(pod *corev1.Pod) *corev1.ConfigMap {
	var candidates []*corev1.ConfigMap
	for _, obj := range c.rules.List() {
		cm := obj.(*corev1.ConfigMap)
		if cm.Namespace != pod.Namespace {
			continue
		}
		sel, err := labels.Parse(cm.Data["selector"])
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			candidates = append(candidates, cm)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].Name < candidates[j].Name })
	return candidates[0]
}

// criLog renders text in the CRI container log format ("<time> stdout F <line>") that
// KWOK's log server reads.
func criLog(text string, stamp time.Time) []byte {
	if text == "" {
		return nil
	}
	var b strings.Builder
	ts := stamp.Format(time.RFC3339Nano)
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		b.WriteString(ts)
		b.WriteString(" stdout F ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// podData is what a log template sees.
type podData struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string
	Container   string            // the container being logged
	Env         map[string]string // literal env values (valueFrom entries are absent)
	Args        []string
	Command     []string
	Image       string
}

// render expands text as a Go text/template when it contains "{{"; plain text is returned as is.
func render(text string, pod *corev1.Pod, ct corev1.Container) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	src := ct
	if len(src.Env) == 0 && len(src.Args) == 0 && len(pod.Spec.Containers) > 0 {
		src = pod.Spec.Containers[0]
	}
	data := podData{
		Name: pod.Name, Namespace: pod.Namespace, Container: ct.Name,
		Labels: map[string]string{}, Annotations: map[string]string{}, Env: map[string]string{},
		Args: src.Args, Command: src.Command, Image: src.Image,
	}
	for k, v := range pod.Labels {
		data.Labels[k] = v
	}
	for k, v := range pod.Annotations {
		data.Annotations[k] = v
	}
	for _, e := range src.Env {
		if e.ValueFrom == nil {
			data.Env[e.Name] = e.Value
		}
	}
	funcs := template.FuncMap{
		"default": func(def, v string) string {
			if v == "" {
				return def
			}
			return v
		},
		"lower": strings.ToLower,
		"upper": strings.ToUpper,
		"join":  strings.Join,
	}
	t, err := template.New("log").Funcs(funcs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return "simlogs: template error: " + err.Error() + "\n"
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "simlogs: template error: " + err.Error() + "\n"
	}
	return b.String()
}
