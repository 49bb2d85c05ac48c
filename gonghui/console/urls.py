from django.urls import path

from . import aid_views as av
from . import case_admin_views as cav
from . import case_views as cv
from . import employment_views as ev
from . import letter_views as lv
from . import membership_views as mv
from . import views

app_name = "console"

# Ids are taken as text and resolved by the selectors, so an unknown or malformed id is the
# console's own 404 page, the same as an id outside the actor's scope.
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("security/", views.security, name="security"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit, name="audit"),
    path("orgs/<str:org_id>/", views.org_detail, name="org_detail"),
    path("orgs/<str:org_id>/children/", views.org_children, name="org_children"),
    path("orgs/<str:org_id>/employers/", views.org_employers, name="org_employers"),
    path("orgs/<str:org_id>/edit/", views.union_edit, name="union_edit"),
    path("orgs/<str:org_id>/unions/new/", views.union_create, name="union_create"),
    path("orgs/<str:org_id>/employers/new/", views.employer_create, name="employer_create"),
    path("orgs/<str:org_id>/move/", views.org_move, name="org_move"),
    path("orgs/<str:org_id>/grants/new/", views.grant_create, name="grant_create"),
    path("orgs/<str:org_id>/staff/new/", views.staff_create, name="staff_create"),
    path("grants/<str:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("employers/<str:employer_id>/", views.employer_detail, name="employer_detail"),
    path("employers/<str:employer_id>/edit/", views.employer_edit, name="employer_edit"),
    # Membership (会员工作): see membership_views.py.
    path("membership/orgs/<str:org_id>/applications/", mv.application_queue, name="membership_queue"),
    path("membership/orgs/<str:org_id>/board/", mv.board, name="membership_board"),
    path("membership/orgs/<str:org_id>/members/", mv.member_list, name="membership_members"),
    path("membership/orgs/<str:org_id>/members/export/", mv.member_export, name="membership_members_export"),
    path("membership/orgs/<str:org_id>/transfers/", mv.transfer_list, name="membership_transfers"),
    path("membership/orgs/<str:org_id>/corrections/", mv.correction_list, name="membership_corrections"),
    path("membership/orgs/<str:org_id>/policy/", mv.policy, name="membership_policy"),
    path("membership/orgs/<str:org_id>/stats/", mv.stats, name="membership_stats"),
    path("membership/orgs/<str:org_id>/stats/export/", mv.stats_export, name="membership_stats_export"),
    path("membership/orgs/<str:org_id>/imports/", mv.import_list, name="membership_imports"),
    path("membership/applications/<str:application_id>/", mv.application_detail, name="membership_application"),
    path("membership/members/<str:member_id>/", mv.member_detail, name="membership_member"),
    path("membership/members/<str:member_id>/reveal/", mv.member_reveal, name="membership_member_reveal"),
    path("membership/transfers/<str:transfer_id>/", mv.transfer_detail, name="membership_transfer"),
    path("membership/corrections/<str:change_request_id>/", mv.correction_detail, name="membership_correction"),
    path(
        "membership/corrections/<str:change_request_id>/evidence/",
        mv.correction_evidence,
        name="membership_correction_evidence",
    ),
    path("membership/imports/template/", mv.import_template, name="membership_import_template"),
    path("membership/imports/<str:import_id>/", mv.import_detail, name="membership_import"),
    path("membership/imports/<str:import_id>/progress/", mv.import_progress, name="membership_import_progress"),
    path("membership/imports/<str:import_id>/errors/", mv.import_errors, name="membership_import_errors"),
    # Cases (诉求办理): see case_views.py. A case's own pages take a numeric id (the links in notices
    # are /console/cases/<id>/), so that they never shadow other pages named cases/<word>/.
    path("cases/", cv.case_home, name="case_home"),
    path("cases/orgs/<str:org_id>/", cv.case_board, name="case_board"),
    path("cases/hotline/", cv.hotline, name="case_hotline"),
    path("cases/hotline/caller/", cv.hotline_caller, name="case_hotline_caller"),
    path("cases/hotline/employers/", cv.hotline_employers, name="case_hotline_employers"),
    path("cases/hotline/places/", cv.hotline_places, name="case_hotline_places"),
    path("cases/<int:case_id>/", cv.case_detail, name="case_detail"),
    path("cases/<int:case_id>/reveal/", cv.case_reveal, name="case_reveal"),
    path("cases/<int:case_id>/dispatch-targets/", cv.case_dispatch_targets, name="case_dispatch_targets"),
    path("cases/<int:case_id>/attachments/<str:attachment_id>/", cv.case_attachment, name="case_attachment"),
    # Case administration (职工诉求: numbers, cluster alerts, taxonomy, time limits): see case_admin_views.py.
    path("cases/orgs/<str:org_id>/stats/", cav.stats, name="case_stats"),
    path("cases/orgs/<str:org_id>/stats/export/", cav.stats_export, name="case_stats_export"),
    path("cases/orgs/<str:org_id>/clusters/", cav.cluster_list, name="case_clusters"),
    path("cases/orgs/<str:org_id>/categories/", cav.category_list, name="case_categories"),
    path("cases/orgs/<str:org_id>/categories/<str:category_id>/", cav.category_edit, name="case_category_edit"),
    path("cases/orgs/<str:org_id>/limits/", cav.limits, name="case_limits"),
    path("cases/clusters/<str:alert_id>/", cav.cluster_detail, name="case_cluster"),
    # Legal aid (法律援助): see aid_views.py. /console/legal/aid/<id>/ is the link in notices.
    path("legal/aid/", av.aid_home, name="aid_home"),
    path("legal/aid/orgs/<str:org_id>/", av.aid_board, name="aid_board"),
    path("legal/aid/orgs/<str:org_id>/stats/", av.aid_stats, name="aid_stats"),
    path("legal/aid/orgs/<str:org_id>/providers/", av.aid_providers, name="aid_providers"),
    path("legal/orgs/<str:org_id>/settings/", av.legal_settings, name="legal_settings"),
    path("legal/aid/<int:application_id>/", av.aid_detail, name="aid_detail"),
    path("legal/aid/<int:application_id>/documents/<str:document_id>/", av.aid_document, name="aid_document"),
    # Labour-law supervision (劳动法律监督, 一函两书): see letter_views.py. A letter's page
    # /console/legal/supervision/letters/<id>/ is the link in notices.
    path("legal/supervision/", lv.supervision_home, name="supervision_home"),
    path("legal/supervision/orgs/<str:org_id>/", lv.supervision_board, name="supervision_board"),
    path("legal/supervision/orgs/<str:org_id>/records/new/", lv.supervision_record_new, name="supervision_record_new"),
    path("legal/supervision/orgs/<str:org_id>/employers/", lv.supervision_employers, name="supervision_employers"),
    path("legal/supervision/orgs/<str:org_id>/stats/", lv.supervision_stats, name="supervision_stats"),
    path("legal/supervision/records/<str:record_id>/", lv.supervision_record, name="supervision_record"),
    path("legal/supervision/records/<str:record_id>/edit/", lv.supervision_record_edit, name="supervision_record_edit"),
    path("legal/supervision/letters/<str:letter_id>/", lv.supervision_letter, name="supervision_letter"),
    path("legal/supervision/letters/<str:letter_id>/pdf/", lv.supervision_letter_file, {"fmt": "pdf"},
         name="supervision_letter_pdf"),
    path("legal/supervision/letters/<str:letter_id>/docx/", lv.supervision_letter_file, {"fmt": "docx"},
         name="supervision_letter_docx"),
    # Employment help (就业帮扶云): see employment_views.py.
    path("jobs/", ev.home, name="jobs_home"),
    path("jobs/orgs/<str:org_id>/postings/", ev.postings, name="jobs_postings"),
    path("jobs/orgs/<str:org_id>/recruiters/", ev.recruiters, name="jobs_recruiters"),
    path("jobs/orgs/<str:org_id>/help/", ev.help_ledger, name="jobs_help"),
    path("jobs/orgs/<str:org_id>/help/export/", ev.help_export, name="jobs_help_export"),
    path("jobs/orgs/<str:org_id>/fairs/", ev.fairs, name="jobs_fairs"),
    path("jobs/orgs/<str:org_id>/stats/", ev.stats, name="jobs_stats"),
    path("jobs/orgs/<str:org_id>/stats/export/", ev.stats_export, name="jobs_stats_export"),
    path("jobs/postings/<str:posting_id>/", ev.posting_detail, name="jobs_posting"),
    path("jobs/help/<str:request_id>/", ev.help_detail, name="jobs_help_request"),
    path("jobs/help/<str:request_id>/reveal/", ev.help_reveal, name="jobs_help_reveal"),
    path("jobs/fairs/<str:fair_id>/", ev.fair_detail, name="jobs_fair"),
    path("jobs/fairs/<str:fair_id>/checkin/", ev.fair_checkin, name="jobs_fair_checkin"),
]
